import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExposition } from '@arcwatch/exposition';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { mapSnapshot, SLOT_INFO, type GpuSnapshot } from './dcgm-mapping';
import { parseListGpus, parseNvlinkCounters } from './nvidia-smi/list-and-nvlink';
import { parseQueryGpu, queryFieldList } from './nvidia-smi/query-gpu';
import { parseQueryXml } from './nvidia-smi/query-xml';
import { scenarioFile, scenarioQueryOutput } from './testing/stand-in';

function snapshot(scenario: string, withNvlink = false): GpuSnapshot {
  const fields = queryFieldList();
  const s: GpuSnapshot = { gpus: parseQueryGpu(scenarioQueryOutput(scenario, fields), fields).gpus };
  s.xml = parseQueryXml(scenarioFile(scenario, 'q-x.xml'));
  s.migs = parseListGpus(scenarioFile(scenario, 'L.txt')).migs;
  if (withNvlink)
    s.nvlink = [
      ...parseNvlinkCounters(scenarioFile(scenario, 'nvlink-gt-d.txt')),
      ...parseNvlinkCounters(scenarioFile(scenario, 'nvlink-e.txt')),
    ];
  return s;
}

function find(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const r = parseExposition(text, { format: 'prometheus' });
  expect(r.errors).toEqual([]);
  return r.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => s.value);
}

describe("nvidia-smi readings under dcgm-exporter's names and labels", () => {
  it('uses the same label names as a real dcgm-exporter scrape of the same L4', () => {
    const real = parseExposition(
      fs.readFileSync(
        path.join(FIXTURES_DIR, 'dcgm-exporter', 'dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt'),
        'utf8',
      ),
      { format: 'prometheus' },
    );
    const realUtil = real.samples.find((s) => s.name === 'DCGM_FI_DEV_GPU_UTIL')!;
    const ours = parseExposition(mapSnapshot(snapshot('l4-na'), { hostname: 'i-030791dc5a37cd257' }).toExposition(), {
      format: 'prometheus',
    });
    const ourUtil = ours.samples.find((s) => s.name === 'DCGM_FI_DEV_GPU_UTIL')!;
    expect(Object.keys(ourUtil.labels).sort()).toEqual(Object.keys(realUtil.labels).sort());
    for (const k of ['gpu', 'UUID', 'pci_bus_id', 'device', 'modelName', 'Hostname', 'DCGM_FI_DRIVER_VERSION']) {
      expect(ourUtil.labels[k]).toBe(realUtil.labels[k]);
    }
    // Every family both expose has the same type.
    const realTypes = new Map(real.families.map((f) => [f.name, f.type]));
    for (const f of ours.families)
      if (realTypes.has(f.name)) expect([f.name, f.type]).toEqual([f.name, realTypes.get(f.name)]);
    const shared = ours.families.filter((f) => realTypes.has(f.name)).map((f) => f.name);
    expect(shared).toEqual(
      expect.arrayContaining([
        'DCGM_FI_DEV_GPU_UTIL',
        'DCGM_FI_DEV_FB_USED',
        'DCGM_FI_DEV_GPU_TEMP',
        'DCGM_FI_DEV_POWER_USAGE',
        'DCGM_FI_DEV_SM_CLOCK',
      ]),
    );
    expect(find(mapSnapshot(snapshot('l4-na'), { hostname: 'h' }).toExposition(), 'DCGM_FI_DEV_FB_FREE')).toEqual([
      22563,
    ]);
  });

  it('gives no sample for an [N/A] or [Not Supported] reading', () => {
    const text = mapSnapshot(snapshot('l4-na'), { hostname: 'h' }).toExposition();
    expect(find(text, 'DCGM_FI_DEV_MEMORY_TEMP')).toEqual([]);
    expect(find(text, 'DCGM_FI_DEV_FAN_SPEED')).toEqual([]);
    expect(find(text, 'DCGM_FI_DEV_ECC_SBE_AGG_TOTAL')).toEqual([]);
    expect(find(text, 'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL')).toEqual([0]);
    expect(find(text, 'DCGM_FI_DEV_GPU_TEMP')).toEqual([31]);
    expect(find(text, 'arcwatch_gpu_clock_event_reason_active', { reason: 'gpu_idle' })).toEqual([1]);
  });

  it('reads an 8-GPU node: one series per GPU, throttle reasons, PCIe replays and NVLink per link', () => {
    const text = mapSnapshot(snapshot('h100x8', true), { hostname: 'gpu-node-001' }).toExposition();
    expect(find(text, 'DCGM_FI_DEV_GPU_UTIL')).toEqual([87, 86, 85, 84, 83, 82, 81, 80]);
    expect(
      find(text, 'DCGM_FI_DEV_POWER_USAGE', { gpu: '3', pci_bus_id: '00000000:5D:00.0', device: 'nvidia3' }),
    ).toEqual([615.45]);
    expect(find(text, 'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', { gpu: '3' })).toEqual([4]);
    expect(find(text, 'arcwatch_gpu_clock_event_reason_active', { gpu: '3', reason: 'sw_power_cap' })).toEqual([1]);
    expect(find(text, 'arcwatch_gpu_clock_event_reason_active', { gpu: '2', reason: 'sw_power_cap' })).toEqual([0]);
    expect(find(text, 'DCGM_FI_DEV_ECC_SBE_AGG_TOTAL', { gpu: '5' })).toEqual([3]);
    expect(find(text, 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER', { gpu: '6' })).toEqual([2]);
    expect(find(text, 'DCGM_FI_DEV_FAN_SPEED')).toEqual([]);
    expect(find(text, 'arcwatch_gpu_nvlink_bytes_total', { gpu: '0', link: '17', direction: 'tx' })).toEqual([
      (5863784 + 17 * 311) * 1024,
    ]);
    expect(find(text, 'arcwatch_gpu_nvlink_bytes_total').length).toBe(8 * 18 * 2);
    expect(find(text, 'arcwatch_gpu_nvlink_errors_total', { gpu: '2', link: '4', error: 'replay' })).toEqual([7]);
    expect(find(text, 'arcwatch_gpu_nvlink_errors_total', { gpu: '2', link: '5', error: 'crc' })).toEqual([0]);
    expect(find(text, 'DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL', { gpu: '2' })).toEqual([7]);
    expect(find(text, 'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL', { gpu: '2' })).toEqual([1]);
    expect(find(text, SLOT_INFO, { slot_kind: 'gpu' })).toHaveLength(8);
  });

  it('gives each MIG slice its own GPU_I_ID and GPU_I_PROFILE beside the parent GPU', () => {
    const text = mapSnapshot(snapshot('a100-mig'), { hostname: 'mig-node' }).toExposition();
    expect(find(text, 'DCGM_FI_DEV_GPU_UTIL')).toEqual([]);
    expect(
      find(text, 'DCGM_FI_DEV_FB_USED', {
        GPU_I_ID: '1',
        GPU_I_PROFILE: '3g.40gb',
        UUID: 'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77',
      }),
    ).toEqual([20480]);
    expect(find(text, 'DCGM_FI_DEV_FB_USED', { GPU_I_ID: '5', GPU_I_PROFILE: '2g.20gb' })).toEqual([9830]);
    expect(find(text, 'DCGM_FI_DEV_FB_FREE', { GPU_I_ID: '13', GPU_I_PROFILE: '1g.10gb' })).toEqual([9728 - 1028]);
    const parent = parseExposition(text, { format: 'prometheus' }).samples.filter(
      (s) => s.name === 'DCGM_FI_DEV_FB_USED' && s.labels.GPU_I_ID === undefined,
    );
    expect(parent.map((s) => s.value)).toEqual([31338]);
    expect(find(text, SLOT_INFO, { slot_kind: 'mig_parent' })).toEqual([1]);
    expect(find(text, SLOT_INFO, { slot_kind: 'mig' })).toEqual([1, 1, 1]);
    expect(
      find(text, SLOT_INFO, { slot_kind: 'mig', slot_key: 'mig-node/GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77/gi13' }),
    ).toEqual([1]);
  });

  it('lists time-slice replicas of each shareable slot, and only in the slot inventory', () => {
    const text = mapSnapshot(snapshot('a100-mig'), { hostname: 'mig-node', timeSliceReplicas: 2 }).toExposition();
    expect(find(text, SLOT_INFO, { slot_kind: 'replica' })).toHaveLength(6);
    expect(find(text, SLOT_INFO, { slot_kind: 'replica', GPU_I_ID: '5', gpu_replica: '1' })).toEqual([1]);
    const r = parseExposition(text, { format: 'prometheus' });
    expect(r.samples.filter((s) => s.name !== SLOT_INFO && s.labels.gpu_replica !== undefined)).toEqual([]);
  });
});
