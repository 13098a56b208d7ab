import { allocate } from './allocation';
import { Inventory } from './inventory';
import {
  gpuModelFromName,
  mergePlacementStatements,
  observeInstances,
  placementChanged,
  placementsFromMerged,
  type DiscoveryDefaults,
  type PlacementStatement,
} from './inventory-discovery';
import { T0, h100Prices, record } from './testing/cost-fixtures';
import { costRequestFromRecord, type CostRequest } from './cost-request';

const dcgm = (host: string, gpu: number, uuid: string, modelName = 'NVIDIA H100 80GB HBM3') => ({
  gpu: String(gpu),
  UUID: uuid,
  pci_bus_id: `00000000:${gpu}:00.0`,
  device: `nvidia${gpu}`,
  modelName,
  Hostname: host,
  instance: `${host}:9400`,
  job: 'dcgm-exporter',
  node: host,
});
const vllm = (instance: string, node: string) => ({
  engine: '0',
  model_name: 'llama',
  instance,
  job: 'vllm',
  node,
  cluster: 'sim',
});

const DEFAULTS: DiscoveryDefaults = {
  pool: 'discovered',
  gpuModel: 'H100',
  gpus: 8,
  price: { provider: 'aws', region: 'us-east-1', pricingKind: 'on-demand' },
};
const stmt = (
  fromMs: number,
  node: string | null,
  gpuUuids: string[],
  gpuModel: string | null = null,
): PlacementStatement => ({
  fromMs,
  node,
  gpuUuids,
  gpuModel,
});
const uuids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `GPU-${prefix}${i}`);

describe('observeInstances', () => {
  it('gives a vLLM instance the GPUs its node reports, in GPU index order', () => {
    const { observations, skipped } = observeInstances(
      [dcgm('gpu-node-001', 1, 'GPU-b'), dcgm('gpu-node-001', 0, 'GPU-a'), dcgm('gpu-node-002', 0, 'GPU-c')],
      [vllm('10.0.0.1:8000', 'gpu-node-001'), vllm('10.0.0.2:8000', 'gpu-node-002')],
    );
    expect(observations).toEqual([
      {
        instance: '10.0.0.1:8000',
        node: 'gpu-node-001',
        gpuUuids: ['GPU-a', 'GPU-b'],
        gpuModelName: 'NVIDIA H100 80GB HBM3',
      },
      { instance: '10.0.0.2:8000', node: 'gpu-node-002', gpuUuids: ['GPU-c'], gpuModelName: 'NVIDIA H100 80GB HBM3' },
    ]);
    expect(skipped).toEqual([]);
  });

  it('counts a GPU once whatever the number of series naming it', () => {
    const { observations } = observeInstances(
      [dcgm('n1', 0, 'GPU-a'), dcgm('n1', 0, 'GPU-a')],
      [vllm('i1', 'n1'), vllm('i1', 'n1')],
    );
    expect(observations.map((o) => o.gpuUuids)).toEqual([['GPU-a']]);
  });

  it('skips, with the reason, what the series cannot place', () => {
    const { observations, skipped } = observeInstances(
      [dcgm('shared', 0, 'GPU-s'), dcgm('n1', 0, 'GPU-a')],
      [
        vllm('a', 'shared'),
        vllm('b', 'shared'),
        vllm('c', 'bare'),
        { instance: 'd', model_name: 'x' },
        vllm('e', 'n1'),
      ],
    );
    expect(observations.map((o) => o.instance)).toEqual(['e']);
    expect(skipped).toEqual([
      { instance: 'a', reason: 'node-shared', node: 'shared' },
      { instance: 'b', reason: 'node-shared', node: 'shared' },
      { instance: 'c', reason: 'no-gpus-on-node', node: 'bare' },
      { instance: 'd', reason: 'no-node-label', node: null },
    ]);
  });
});

describe('gpuModelFromName', () => {
  const known = ['H100', 'H200', 'V100', 'A100', 'A10'];
  it.each([
    ['NVIDIA H100 80GB HBM3', 'H100'],
    ['NVIDIA H200', 'H200'],
    ['Tesla V100-SXM2-16GB', 'V100'],
    ['NVIDIA A10', 'A10'],
    ['NVIDIA A100-SXM4-80GB', 'A100'],
    ['NVIDIA L4', null],
  ])('%s → %s', (name, model) => {
    expect(gpuModelFromName(name, known)).toBe(model);
  });
});

describe('placementChanged', () => {
  it('is a change when node, GPUs or model differ, not when the same placement is seen again', () => {
    const last = stmt(0, 'n1', ['GPU-a', 'GPU-b'], 'H100');
    expect(placementChanged(undefined, last)).toBe(true);
    expect(placementChanged(last, { node: 'n1', gpuUuids: ['GPU-a', 'GPU-b'], gpuModel: 'H100' })).toBe(false);
    expect(placementChanged(last, { node: 'n2', gpuUuids: ['GPU-a', 'GPU-b'], gpuModel: 'H100' })).toBe(true);
    expect(placementChanged(last, { node: 'n1', gpuUuids: ['GPU-a'], gpuModel: 'H100' })).toBe(true);
    expect(placementChanged(last, { node: 'n1', gpuUuids: ['GPU-a', 'GPU-c'], gpuModel: 'H100' })).toBe(true);
    expect(placementChanged(last, { node: 'n1', gpuUuids: ['GPU-a', 'GPU-b'], gpuModel: 'H200' })).toBe(true);
  });
});

describe('mergePlacementStatements', () => {
  it('takes a metrics change at its time', () => {
    const merged = mergePlacementStatements(
      [],
      [stmt(1000, 'n1', uuids('a', 4), 'H100'), stmt(5000, 'n2', uuids('b', 8), 'H100')],
    );
    expect(merged.map((m) => [m.fromMs, m.node, m.gpus, m.source])).toEqual([
      [1000, 'n1', 4, 'metrics'],
      [5000, 'n2', 8, 'metrics'],
    ]);
  });

  it('lets a request record win over metrics at the same time, and fills what it leaves open', () => {
    const merged = mergePlacementStatements(
      [stmt(5000, 'n9', uuids('r', 2))],
      [stmt(1000, 'n1', uuids('a', 4), 'H200'), stmt(5000, 'n2', uuids('b', 8), 'H100')],
    );
    expect(merged.map((m) => [m.fromMs, m.node, m.gpus, m.gpuModel, m.source])).toEqual([
      [1000, 'n1', 4, 'H200', 'metrics'],
      // the record's node and GPUs win; metrics on another node say nothing of its model
      [5000, 'n9', 2, null, 'records'],
    ]);
  });

  it('takes the GPU count and model from metrics when a record names no GPUs on the same node, and none on another node', () => {
    const same = mergePlacementStatements([stmt(2000, 'n1', [])], [stmt(1000, 'n1', uuids('a', 4), 'H200')]);
    expect(same.map((m) => [m.fromMs, m.gpus, m.gpuModel])).toEqual([[1000, 4, 'H200']]);
    const other = mergePlacementStatements([stmt(2000, 'n7', [])], [stmt(1000, 'n1', uuids('a', 4), 'H100')]);
    expect(other.map((m) => [m.fromMs, m.node, m.gpus])).toEqual([
      [1000, 'n1', 4],
      [2000, 'n7', null],
    ]);
  });

  it('lets records win wherever they speak, and metrics hold where they do not', () => {
    const recordsA = (from: number, to: number) => ({ ...stmt(from, 'nA', uuids('a', 2)), toMs: to });
    const merged = mergePlacementStatements(
      [recordsA(0, 60_000), recordsA(120_000, 180_000)],
      [stmt(30_000, 'nB', uuids('b', 4), 'H100')],
    );
    expect(merged.map((m) => [m.fromMs, m.node, m.gpus, m.source])).toEqual([
      [0, 'nA', 2, 'records'],
      [60_000, 'nB', 4, 'metrics'],
      [120_000, 'nA', 2, 'records'],
      [180_000, 'nB', 4, 'metrics'],
    ]);
    // Without metrics the last record statement carries on after its stretch.
    expect(mergePlacementStatements([recordsA(0, 60_000)], []).map((m) => [m.fromMs, m.node, m.gpus])).toEqual([
      [0, 'nA', 2],
    ]);
  });

  it('joins statements that repeat the placement in force', () => {
    const merged = mergePlacementStatements(
      [stmt(1000, 'n1', uuids('a', 8))],
      [stmt(3000, 'n1', uuids('a', 8)), stmt(4000, 'n1', uuids('a', 8))],
    );
    expect(merged.map((m) => m.fromMs)).toEqual([1000]);
  });
});

describe('a placement that changes inside a window', () => {
  const WINDOW = 60_000;
  // 4 GPUs from T0, 8 from T0 + 30 s, as metrics would observe a tensor-parallel resize.
  const merged = mergePlacementStatements(
    [],
    [stmt(T0, 'n1', uuids('a', 4), 'H100'), stmt(T0 + 30_000, 'n1', uuids('a', 8), 'H100')],
  );
  const inventory = new Inventory(
    [{ name: 'discovered', owner: 'platform', idle: 'separate' }],
    placementsFromMerged('vllm-h100-0', merged, DEFAULTS),
  );
  const request = (id: string, from: number, to: number): CostRequest => {
    const c = costRequestFromRecord(record({ id, tenant: 'acme', scheduled: from, end: to }));
    if (!c.ok) throw new Error(c.reason);
    return c.request;
  };

  it('is costed 4 GPUs before the change and 8 after', () => {
    const run = allocate(
      [request('r1', 0, 120)],
      inventory,
      h100Prices(),
      { windowMs: WINDOW, method: 'time-share' },
      { fromMs: T0, toMs: T0 + 120_000 },
    );
    // 98.32 USD per 8-GPU hour = 12.29 USD per GPU-hour.
    // [0, 30 s) at 4 GPUs: 120 GPU-s = 409_666.67 micro, floored 409_666.
    // [30, 60 s) at 8 GPUs from the new placement's start: 240 GPU-s = 819_333.33, floored 819_333.
    // [60, 120 s) at 8 GPUs: floor(720 GPU-s = 2_458_000) − 819_333 = 1_638_667.
    expect(run.windows.map((w) => w.costMicro)).toEqual([409_666n + 819_333n, 1_638_667n]);
    expect(run.windows.map((w) => w.lines.map((l) => [l.requestId, l.amountMicro, l.gpuMs]))).toEqual([
      [['r1', 1_228_999n, 4 * 30_000 + 8 * 30_000]],
      [['r1', 1_638_667n, 8 * 60_000]],
    ]);
  });
});
