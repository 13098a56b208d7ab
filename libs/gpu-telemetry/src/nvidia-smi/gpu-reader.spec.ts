import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mapSnapshot } from '../dcgm-mapping';
import { STAND_IN_DIR, STAND_IN_NVIDIA_SMI, standInEnv } from '../testing/stand-in';
import { GpuReader } from './gpu-reader';
import { NvidiaSmiError, runNvidiaSmi } from './nvidia-smi.runner';

function reader(
  scenario: string,
  extra: { timeoutMs?: number; nvlink?: boolean; xmlEveryMs?: number } = {},
): GpuReader {
  return new GpuReader({
    binary: STAND_IN_NVIDIA_SMI,
    env: standInEnv(scenario),
    timeoutMs: extra.timeoutMs ?? 5000,
    ...extra,
  });
}

async function failure(p: Promise<unknown>): Promise<NvidiaSmiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NvidiaSmiError);
    return err as NvidiaSmiError;
  }
  throw new Error('expected a failure');
}

describe('reading GPUs through the stand-in nvidia-smi', () => {
  it('reads an 8-GPU node with XML and NVLink', async () => {
    const r = await reader('h100x8', { nvlink: true }).read(0);
    expect(r.problems).toEqual([]);
    expect(r.snapshot.gpus.map((g) => g.index)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(r.snapshot.gpus[7]!.values.get('power.draw')).toBe(619.45);
    expect(r.snapshot.xml?.gpus[3]?.activeThrottleReasons).toEqual(['sw_power_cap']);
    expect(r.snapshot.nvlink?.filter((c) => c.counter === 'data_tx')).toHaveLength(8 * 18);
  });

  it('reads the XML and NVLink less often than the CSV, and never sends a kept XML reading as new values', async () => {
    const rd = reader('h100x8', { nvlink: true, xmlEveryMs: 10_000 });
    const first = await rd.read(0);
    expect([first.snapshot.xmlFresh, first.snapshot.nvlink?.length]).toEqual([undefined, 8 * 18 * 2 + 8 * 18 * 3 - 1]); // GPU 2 link 4 prints no recovery line
    const between = await rd.read(1000);
    expect(between.snapshot.xmlFresh).toBe(false);
    expect(between.snapshot.xml?.gpus).toHaveLength(8);
    expect(between.snapshot.nvlink).toBeUndefined();
    const text = mapSnapshot(between.snapshot, { hostname: 'h' }).toExposition();
    expect(text).not.toContain('DCGM_FI_DEV_PCIE_REPLAY_COUNTER');
    expect(text).toContain('device="nvidia7"');
    const again = await rd.read(10_000);
    expect(again.snapshot.xmlFresh).toBeUndefined();
    expect(again.snapshot.nvlink).toHaveLength(8 * 18 * 5 - 1);
  });

  it('reads the XML of a MIG node every time (slice memory is only there)', async () => {
    const rd = reader('a100-mig', { xmlEveryMs: 10_000 });
    await rd.read(0);
    expect((await rd.read(1000)).snapshot.xmlFresh).toBeUndefined();
  });

  it('reads MIG slices with their profiles from -L', async () => {
    const r = await reader('a100-mig').read(0);
    expect(r.snapshot.gpus[0]!.migEnabled).toBe(true);
    expect(r.snapshot.xml?.gpus[0]?.migDevices.map((d) => d.gpuInstanceId)).toEqual(['1', '5', '13']);
    expect(r.snapshot.migs?.map((m) => m.profile)).toEqual(['3g.40gb', '2g.20gb', '1g.10gb']);
  });

  it('drops the query fields an older driver refuses and keeps reading the rest', async () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nvsmi-')), 'calls');
    const rd = new GpuReader({
      binary: STAND_IN_NVIDIA_SMI,
      env: { ...standInEnv('t4-old-driver'), NVIDIA_SMI_CALL_LOG: log },
    });
    const r = await rd.read(0);
    expect(r.droppedFields.sort()).toEqual(['memory.reserved', 'utilization.decoder', 'utilization.encoder']);
    expect(r.snapshot.gpus[0]!.values.get('power.draw')).toBe(27.85);
    const queriesBefore = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('--query-gpu')).length;
    expect(queriesBefore).toBe(4);
    await rd.read(1000);
    const queriesAfter = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('--query-gpu')).length;
    expect(queriesAfter).toBe(5);
  });

  it('reports a driver failure with its code', async () => {
    const e = await failure(reader('driver-error').read(0));
    expect(e.code).toBe('NVSMI_DRIVER');
    expect(e.exitCode).toBe(9);
    expect(e.message).toContain("couldn't communicate with the NVIDIA driver");
  });

  it('reports a node without GPUs as NVSMI_NO_DEVICES and a missing binary as NVSMI_NOT_FOUND', async () => {
    expect((await failure(reader('no-gpu').read(0))).code).toBe('NVSMI_NO_DEVICES');
    expect((await failure(runNvidiaSmi(['-L'], { binary: '/nonexistent/nvidia-smi' }))).code).toBe('NVSMI_NOT_FOUND');
  });

  it('times out a hung nvidia-smi and kills it', async () => {
    const started = Date.now();
    const e = await failure(reader('hang', { timeoutMs: 300 }).read(0));
    expect(e.code).toBe('NVSMI_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('reading GPUs from one long-running nvidia-smi (-lms)', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('takes the latest round of the running loop instead of starting nvidia-smi each time', async () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nvsmi-')), 'calls');
    const rd = new GpuReader({
      binary: STAND_IN_NVIDIA_SMI,
      env: { ...standInEnv('h100x8'), NVIDIA_SMI_CALL_LOG: log },
      mode: 'loop',
      periodMs: 200,
      xmlEveryMs: 60_000,
    });
    try {
      expect((await rd.read(0)).snapshot.gpus).toHaveLength(8);
      for (let i = 0; i < 100 && !rd.loopReady; i++) await wait(100);
      expect(rd.loopReady).toBe(true);
      for (let i = 1; i <= 3; i++) {
        const r = await rd.read(i * 1000);
        expect(r.snapshot.gpus.map((g) => g.values.get('power.draw'))).toEqual([
          612.45, 613.45, 614.45, 615.45, 616.45, 617.45, 618.45, 619.45,
        ]);
      }
      const calls = fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('--query-gpu'));
      // One run to learn the fields, then the loop.
      expect(calls).toHaveLength(2);
      expect(calls[1]).toMatch(/^--query-gpu=timestamp,index,uuid,.* --format=csv,noheader,nounits -lms 200$/);
    } finally {
      rd.close();
    }
  }, 30_000);

  it('reports a loop that stops printing as a timeout, and starts it again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nvsmi-scn-'));
    for (const f of ['query-gpu.csv', 'q-x.xml', 'L.txt'])
      fs.copyFileSync(path.join(STAND_IN_DIR, 'l4-na', f), path.join(dir, f));
    // Generous deadlines: the machine running the tests may be busy.
    const rd = new GpuReader({
      binary: STAND_IN_NVIDIA_SMI,
      env: standInEnv(dir),
      mode: 'loop',
      periodMs: 200,
      timeoutMs: 1500,
    });
    const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (let i = 0; ; i++) {
        try {
          return await fn();
        } catch (err) {
          if (i >= 20) throw err;
          await wait(250);
        }
      }
    };
    try {
      await rd.read(0);
      await wait(500);
      expect((await retry(() => rd.read(1))).snapshot.gpus).toHaveLength(1);
      // The node's nvidia-smi starts hanging: the running loop goes quiet.
      fs.writeFileSync(path.join(dir, 'behaviour'), 'hang\n');
      await wait(3500);
      expect((await failure(rd.read(2))).code).toBe('NVSMI_TIMEOUT');
      // Started again, it hangs at once: the one-shot read that fills in is cut by its own timeout.
      expect((await failure(rd.read(3))).code).toBe('NVSMI_TIMEOUT');
      fs.rmSync(path.join(dir, 'behaviour'));
      expect((await retry(() => rd.read(4))).snapshot.gpus).toHaveLength(1);
    } finally {
      rd.close();
    }
  }, 60_000);
});
