import { ConfigFileError } from '@arcwatch/config-files';
import { parseInventory } from './inventory';

const YAML = `pools:
  - { name: h100-prod, owner: platform, idle: shared }
instances:
  - instance: llama-70b-0
    pool: h100-prod
    placements:
      - from: "2026-01-01T00:00:00Z"
        node: gpu-node-1
        gpuUuids: [GPU-a, GPU-b, GPU-c, GPU-d]
        gpuModel: H100
        price: { provider: aws, region: us-east-1, pricingKind: on-demand }
        resourceId: i-0abc
      - from: "2026-01-01T12:00:00Z"
        node: gpu-node-2
        gpus: 8
        gpuModel: H100
        price: { provider: aws, region: us-east-1, pricingKind: spot }
      - from: "2026-01-02T00:00:00Z"
        retired: true
`;

describe('inventory', () => {
  const inv = parseInventory(YAML, 'inventory.yaml');

  it('places an instance on its GPUs from each placement time until the next', () => {
    const early = inv.at('llama-70b-0', Date.parse('2026-01-01T11:59:59.999Z'));
    expect([early?.node, early?.gpus, early?.gpuUuids.length, early?.resourceId]).toEqual([
      'gpu-node-1',
      4,
      4,
      'i-0abc',
    ]);
    const late = inv.at('llama-70b-0', Date.parse('2026-01-01T12:00:00Z'));
    expect([late?.node, late?.gpus, late?.price.pricingKind, late?.price.gpuModel]).toEqual([
      'gpu-node-2',
      8,
      'spot',
      'H100',
    ]);
    expect(inv.at('llama-70b-0', Date.parse('2026-01-02T00:00:00Z'))).toBeUndefined();
    expect(inv.at('llama-70b-0', Date.parse('2025-12-31T23:00:00Z'))).toBeUndefined();
    expect(inv.pool('h100-prod')).toEqual({ name: 'h100-prod', owner: 'platform', idle: 'shared' });
  });

  it('clips placements to a span', () => {
    const b = inv.between('llama-70b-0', Date.parse('2026-01-01T11:00:00Z'), Date.parse('2026-01-01T13:00:00Z'));
    expect(b.map((p) => [new Date(p.fromMs).toISOString(), new Date(p.toMs).toISOString(), p.gpus])).toEqual([
      ['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z', 4],
      ['2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z', 8],
    ]);
  });

  it('reports file:line:column for what does not hold together', () => {
    const bad = `pools:
  - { name: p, owner: o }
instances:
  - instance: x
    pool: q
    placements:
      - { from: "2026-01-01T00:00:00Z", gpus: 2, gpuUuids: [a], gpuModel: H100 }
      - { from: "2026-01-01T00:00:00Z", gpuModel: H100 }
`;
    let message = '';
    try {
      parseInventory(bad, 'inv.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigFileError);
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'inv.yaml:7:47: instances[0].placements[0].gpus: says 2 but 1 gpuUuids are listed',
      'inv.yaml:8:9: instances[0].placements[1].gpus: give gpus or gpuUuids',
    ]);
    const badPool = bad
      .replace('[a]', '[a, b]')
      .replace(
        '{ from: "2026-01-01T00:00:00Z", gpuModel: H100 }',
        '{ from: "2026-01-01T00:00:00Z", gpus: 1, gpuModel: H100 }',
      );
    try {
      parseInventory(badPool, 'inv.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'inv.yaml:5:11: instances[0].pool: unknown pool q',
      'inv.yaml:8:17: instances[0].placements[1].from: two placements start at this time',
    ]);
  });
});
