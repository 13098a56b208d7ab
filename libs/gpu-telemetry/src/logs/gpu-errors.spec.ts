import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeGpuErrorV1Schema } from '@arcwatch/contracts';
import { parseExposition } from '@arcwatch/exposition';
import type { GpuSlot } from '../labels/gpu-labels';
import { GpuErrorTracker, type LogSource } from './gpu-error-tracker';
import { matchEngineLine, matchKernelLine } from './log-patterns';
import { LogTailer } from './log-tailer';

const slots: GpuSlot[] = [
  {
    Hostname: 'n1',
    gpu: '0',
    UUID: 'GPU-a',
    pci_bus_id: '00000000:18:00.0',
    device: 'nvidia0',
    modelName: 'NVIDIA H100 80GB HBM3',
  },
  {
    Hostname: 'n1',
    gpu: '1',
    UUID: 'GPU-b',
    pci_bus_id: '00000000:3B:00.0',
    device: 'nvidia1',
    modelName: 'NVIDIA H100 80GB HBM3',
  },
  {
    Hostname: 'n1',
    gpu: '1',
    UUID: 'GPU-b',
    pci_bus_id: '00000000:3B:00.0',
    device: 'nvidia1',
    modelName: 'NVIDIA H100 80GB HBM3',
    GPU_I_ID: '5',
    GPU_I_PROFILE: '2g.20gb',
  },
];
const kernel: LogSource = { name: 'kmsg', kind: 'kernel', path: '/dev/null' };

describe('kernel Xid lines', () => {
  it.each([
    [
      '[ 8123.456789] NVRM: Xid (PCI:0000:3b:00): 79, pid=2871, name=python3, GPU has fallen off the bus.',
      79,
      2871,
      'python3',
    ],
    [
      'Dec  3 17:01:02 n1 kernel: NVRM: Xid (PCI:0000:3b:00): 48, pid=991, name=vllm, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 6, subpartition 0.',
      48,
      991,
      'vllm',
    ],
    [
      "NVRM: Xid (PCI:0000:3b:00): 94, pid='<unknown>', name=<unknown>, Contained: SM (0x1). RST: No, D-RST: No",
      94,
      undefined,
      undefined,
    ],
    [
      'kernel: NVRM: Xid (0000:3b:00): 13, Graphics SM Warp Exception on (GPC 0, TPC 1, SM 0): Out Of Range Address',
      13,
      undefined,
      undefined,
    ],
    [
      'NVRM: Xid (PCI:0000:3b:00.0): 119, pid=3012, name=python, Timeout after 6s of waiting for RPC response from GPU1 GSP!',
      119,
      3012,
      'python',
    ],
  ])('reads %s', (line, xid, pid, name) => {
    const m = matchKernelLine(line)!;
    expect(m.kind).toBe('xid');
    expect(m.xid).toBe(xid);
    expect(m.pci).toBe('0000:3b:00');
    expect(m.pid).toBe(pid);
    expect(m.processName).toBe(name);
    expect(m.message.startsWith(`Xid ${xid}: `)).toBe(true);
  });

  it('ignores other kernel lines', () => {
    expect(matchKernelLine('NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.90.07')).toBeUndefined();
    expect(matchKernelLine('usb 1-1: new high-speed USB device number 2')).toBeUndefined();
  });
});

describe('engine log lines', () => {
  it.each([
    [
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 1 has a total capacity of 79.15 GiB of which 1.06 GiB is free.',
      'cuda_oom',
      1,
    ],
    ['RuntimeError: CUDA error: out of memory', 'cuda_oom', undefined],
    [
      'ERROR 12-03 17:00:01 engine.py:123] Failed to load model meta-llama/Llama-3.1-70B',
      'model_load_failure',
      undefined,
    ],
    ['OSError: meta-llama/x does not appear to have a file named config.json.', 'model_load_failure', undefined],
    ['Error: ShardCannotStart', 'model_load_failure', undefined],
    ['vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue.', 'engine_crash', undefined],
    ['2026-12-03T17:00:01Z ERROR text_generation_launcher: Shard 0 crashed', 'engine_crash', undefined],
    ['Fatal Python error: Segmentation fault', 'engine_crash', undefined],
  ])('classifies %s', (line, kind, ordinal) => {
    const m = matchEngineLine(line)!;
    expect(m.kind).toBe(kind);
    expect(m.deviceOrdinal).toBe(ordinal);
  });

  it('ignores ordinary engine lines', () => {
    expect(
      matchEngineLine('INFO 12-03 17:00:01 metrics.py:455] Avg prompt throughput: 1024.0 tokens/s'),
    ).toBeUndefined();
  });
});

describe('errors become events and counters on the right GPU', () => {
  it('puts an Xid on the whole GPU at that PCI address and counts it per Xid', () => {
    const t = new GpuErrorTracker();
    const ctx = { cluster: 'c1', hostname: 'n1', slots };
    const line = 'NVRM: Xid (PCI:0000:3b:00): 79, pid=2871, name=python3, GPU has fallen off the bus.';
    const e = t.record(kernel, t.match(kernel, line)!, ctx, Date.UTC(2026, 11, 3, 17));
    expect(nodeGpuErrorV1Schema.parse(e.data)).toEqual(e.data);
    expect(e.data.gpu).toEqual({
      gpu: '1',
      UUID: 'GPU-b',
      pci_bus_id: '00000000:3B:00.0',
      device: 'nvidia1',
      modelName: 'NVIDIA H100 80GB HBM3',
      Hostname: 'n1',
    });
    expect(e.data.xid).toBe(79);
    expect(e.data.observedAt).toBe('2026-12-03T17:00:00.000Z');
    t.record(kernel, t.match(kernel, line)!, ctx, 0);
    t.record(kernel, t.match(kernel, 'NVRM: Xid (PCI:0000:3b:00): 31, pid=1, name=x, MMU Fault')!, ctx, 0);
    const r = parseExposition(t.samples().toExposition(), { format: 'prometheus' });
    const xid = (n: string) =>
      r.samples.find((s) => s.name === 'arcwatch_gpu_xid_errors_total' && s.labels.xid === n)?.value;
    expect([xid('79'), xid('31')]).toEqual([2, 1]);
    expect(r.samples.filter((s) => s.name === 'DCGM_FI_DEV_XID_ERRORS').map((s) => [s.labels.UUID, s.value])).toEqual([
      ['GPU-b', 31],
    ]);
  });

  it('keeps an Xid for an unknown PCI address with the address and no GPU', () => {
    const t = new GpuErrorTracker();
    const e = t.record(
      kernel,
      t.match(kernel, 'NVRM: Xid (PCI:0000:c1:00): 62, Internal micro-controller halt')!,
      { cluster: 'c', hostname: 'n1', slots },
      0,
    );
    expect(e.data.gpu).toBeNull();
    expect(e.data.pciAddress).toBe('0000:c1:00');
  });

  it("puts an engine's OOM on the device it names, MIG slice and replica included", () => {
    const t = new GpuErrorTracker();
    const src: LogSource = {
      name: 'vllm-a',
      kind: 'engine',
      engine: 'vllm',
      path: '/dev/null',
      devices: ['GPU-a', 'MIG-x'],
      replica: '2',
    };
    const ctx = {
      cluster: 'c',
      hostname: 'n1',
      slots,
      migUuids: new Map([['MIG-x', { uuid: 'GPU-b', gpuInstanceId: '5' }]]),
    };
    const e = t.record(
      src,
      t.match(
        src,
        'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1 GiB. GPU 1 has a total capacity of 19 GiB',
      )!,
      ctx,
      0,
    );
    expect(e.data.gpu).toMatchObject({ UUID: 'GPU-b', GPU_I_ID: '5', GPU_I_PROFILE: '2g.20gb', gpu_replica: '2' });
    const r = parseExposition(t.samples().toExposition(), { format: 'prometheus' });
    expect(r.samples.map((s) => [s.name, s.labels.kind, s.labels.engine, s.labels.GPU_I_ID, s.value])).toEqual([
      ['arcwatch_gpu_engine_errors_total', 'cuda_oom', 'vllm', '5', 1],
    ]);
  });
});

describe('following a log file', () => {
  it('returns whole lines with offsets, waits for a line to finish, and starts over after rotation', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-'));
    const file = path.join(dir, 'kern.log');
    fs.writeFileSync(file, 'old line\n');
    const t = new LogTailer(file);
    expect(t.poll()).toEqual([]);
    fs.appendFileSync(file, 'first\nsec');
    expect(t.poll().map((l) => [l.text, l.offset])).toEqual([['first', 9]]);
    fs.appendFileSync(file, 'ond\n');
    expect(t.poll().map((l) => [l.text, l.offset])).toEqual([['second', 15]]);
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, 'after rotation\n');
    expect(t.poll().map((l) => [l.text, l.offset])).toEqual([['after rotation', 0]]);
  });

  it('resumes from a saved position without repeating lines', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-'));
    const file = path.join(dir, 'kern.log');
    fs.writeFileSync(file, 'a\nb\n');
    const t1 = new LogTailer(file, { fromStart: true });
    expect(t1.poll().map((l) => l.text)).toEqual(['a', 'b']);
    fs.appendFileSync(file, 'c\n');
    const t2 = new LogTailer(file, { position: t1.position()! });
    expect(t2.poll().map((l) => [l.text, l.offset])).toEqual([['c', 4]]);
  });
});
