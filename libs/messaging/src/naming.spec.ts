import { SUBJECTS } from '@arcwatch/contracts';
import { assertDurableName, createNaming } from './naming';

describe('createNaming', () => {
  it('uses the canonical names without a namespace', () => {
    const n = createNaming();
    expect(n.streamName('metrics')).toBe('AW_METRICS');
    expect(n.streamSubjects('deadLetter')).toEqual(['aw.dlq.>']);
    expect(n.toWire(SUBJECTS.metricsSamples('c1', 'n1'))).toBe('aw.metrics.v1.samples.c1.n1');
  });

  it('prefixes streams (uppercased) and subjects with a namespace, and strips it on the way in', () => {
    const n = createNaming('tab12');
    expect(n.streamName('metrics')).toBe('TAB12_AW_METRICS');
    expect(n.streamSubjects('metrics')).toEqual(['tab12.aw.metrics.v1.>']);
    expect(n.toWire('aw.metrics.v1.samples.c.n')).toBe('tab12.aw.metrics.v1.samples.c.n');
    expect(n.fromWire('tab12.aw.metrics.v1.samples.c.n')).toBe('aw.metrics.v1.samples.c.n');
    expect(n.fromWire('other.aw.x')).toBe('other.aw.x');
  });

  it('rejects a namespace that would change subject structure', () => {
    expect(() => createNaming('a.b')).toThrow(/invalid messaging namespace "a.b"/);
    expect(() => createNaming('a>')).toThrow(/invalid messaging namespace/);
  });
});

describe('assertDurableName', () => {
  it('accepts a plain name and rejects dots and wildcards', () => {
    expect(() => assertDurableName('collector-writer_1')).not.toThrow();
    expect(() => assertDurableName('collector.writer')).toThrow(/invalid durable name "collector.writer"/);
    expect(() => assertDurableName('')).toThrow(/invalid durable name/);
  });
});
