import { MetadataThrottle } from './metadata-throttle';

describe('metadata in batches only when it changed or an hour passed', () => {
  const gauge = [{ metric: 'g', type: 'gauge' as const, help: 'A gauge.' }];

  it("sends a target's metadata once, again when it changes, again after an hour, again after a failed send", () => {
    const t = new MetadataThrottle(3_600_000);
    expect(t.take('a', gauge, 0)).toEqual(gauge);
    expect(t.take('a', [...gauge], 15_000)).toBeUndefined();
    expect(t.take('b', gauge, 15_000)).toEqual(gauge); // another target
    const changed = [{ ...gauge[0]!, help: 'A gauge, better described.' }];
    expect(t.take('a', changed, 30_000)).toEqual(changed);
    expect(t.take('a', changed, 3_630_001)).toEqual(changed);
    t.forget('a');
    expect(t.take('a', changed, 3_645_000)).toEqual(changed);
    expect(t.take('a', [], 3_660_000)).toBeUndefined();
  });
});
