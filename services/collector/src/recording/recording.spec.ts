import { isStaleNaN, type Labels } from '@arcwatch/contracts';
import { MemoryQueryable, parsePromql } from '@arcwatch/promql';
import { ManualClock } from '@arcwatch/runtime';
import {
  EMPTY_GROUP_STATE,
  evalTimeAt,
  groupBatch,
  nextEvalTime,
  recordingBatchId,
  recordRule,
} from './recording.evaluator';
import type { RecordingRule } from '@arcwatch/rules';
import { GroupOverlayQueryable, GroupScheduler } from './rule-scheduler';

const rule = (record: string, labels: Record<string, string> = {}): RecordingRule => ({
  record,
  expr: 'x',
  ast: parsePromql('x'),
  labels,
});
const group = { file: 'rules/gpu.yml', name: 'gpu' };

describe('one recording rule', () => {
  it('names every sample after the rule and applies its labels, "" removing one', () => {
    const out = recordRule(
      rule('job:gpu_util:avg', { team: 'infra', instance: '' }),
      {
        type: 'vector',
        timeMs: 0,
        samples: [{ labels: { job: 'dcgm', instance: 'a:9400' }, value: 87 }],
      },
      0,
    );
    expect(out).toEqual({
      ok: true,
      samples: [{ labels: { __name__: 'job:gpu_util:avg', job: 'dcgm', team: 'infra' }, value: 87 }],
    });
  });

  it('records a scalar as one series with no other labels', () => {
    expect(recordRule(rule('fleet:gpus'), { type: 'scalar', timeMs: 0, value: 8 }, 0)).toEqual({
      ok: true,
      samples: [{ labels: { __name__: 'fleet:gpus' }, value: 8 }],
    });
  });

  it('fails on label sets that collide after the rule labels, and over the group limit', () => {
    const samples = [
      { labels: { gpu: '0' }, value: 1 },
      { labels: { gpu: '1' }, value: 2 },
    ];
    expect(recordRule(rule('r', { gpu: '' }), { type: 'vector', timeMs: 0, samples }, 0)).toEqual({
      ok: false,
      error: 'vector contains metrics with the same labelset after applying rule labels',
    });
    expect(recordRule(rule('r'), { type: 'vector', timeMs: 0, samples }, 1)).toEqual({
      ok: false,
      error: 'exceeded limit of 1 with 2 series',
    });
  });
});

describe('one group evaluation', () => {
  const sample = (labels: Labels, value: number) => ({ labels, value });

  it('becomes one recording_rule batch with a deterministic id, marking vanished series stale', () => {
    const first = groupBatch(
      group,
      'prod',
      60_000,
      60_000,
      [{ ok: true, samples: [sample({ __name__: 'r', gpu: '0' }, 1), sample({ __name__: 'r', gpu: '1' }, 2)] }],
      EMPTY_GROUP_STATE,
    );
    expect(first.batch).toMatchObject({
      source: 'recording_rule',
      cluster: 'prod',
      scrapedAtMs: 60_000,
      batchId: recordingBatchId(group, 60_000),
    });
    expect(first.batch.series).toEqual([
      { labels: { __name__: 'r', gpu: '0' }, samples: [[60_000, 1]] },
      { labels: { __name__: 'r', gpu: '1' }, samples: [[60_000, 2]] },
    ]);
    const second = groupBatch(
      group,
      'prod',
      120_000,
      120_000,
      [
        { ok: true, samples: [sample({ __name__: 'r', gpu: '0' }, 3)] },
        { ok: false, error: 'x' },
      ],
      first.state,
    );
    expect(second.batch.series).toEqual([
      { labels: { __name__: 'r', gpu: '0' }, samples: [[120_000, 3]] },
      { labels: { __name__: 'r', gpu: '1' }, samples: [[120_000, 'stale']] },
    ]);
    expect(second.batch.batchId).not.toBe(first.batch.batchId);
    expect(recordingBatchId(group, 60_000)).toBe(first.batch.batchId);
  });

  it('aligns evaluation times to the interval', () => {
    expect(evalTimeAt(125_000, 60_000)).toBe(120_000);
    expect(nextEvalTime(120_000, 60_000)).toBe(180_000);
    expect(nextEvalTime(125_000, 60_000)).toBe(180_000);
  });
});

describe('the group scheduler', () => {
  it('runs on interval boundaries, skips the ones an overlong run covered, and stops', async () => {
    const clock = new ManualClock(7_000);
    const runs: number[] = [];
    const scheduler = new GroupScheduler(clock, 30_000, async (t) => {
      runs.push(t);
      if (t === 60_000) clock.set(125_000); // this run takes 65 s
    });
    scheduler.start();
    await clock.advanceTo(30_000);
    await clock.advanceTo(60_000);
    expect(clock.now()).toBe(125_000);
    await clock.advanceTo(149_999);
    expect(runs).toEqual([30_000, 60_000]);
    await clock.advanceTo(150_000);
    expect(runs).toEqual([30_000, 60_000, 150_000]);
    await scheduler.stop();
    expect(clock.pendingCount).toBe(0);
  });
});

describe('rules reading the rules before them', () => {
  it('sees stored samples and the ones just recorded, the recorded winning at the same time', async () => {
    const stored = new MemoryQueryable();
    stored.add({ __name__: 'r', gpu: '0' }, 0, 1);
    stored.add({ __name__: 'r', gpu: '0' }, 60_000, 5);
    const view = new GroupOverlayQueryable(stored);
    view.add({ __name__: 'r', gpu: '0' }, 60_000, 2);
    view.add({ __name__: 'r', gpu: '1' }, 60_000, 3);
    const got = await view.select([{ name: '__name__', type: '=', value: 'r' }], 0, 60_000);
    expect(got.map((s) => [s.labels.gpu, Array.from(s.timestamps), Array.from(s.values)]).sort()).toEqual([
      ['0', [0, 60_000], [1, 2]],
      ['1', [60_000], [3]],
    ]);
    expect(isStaleNaN(got[0].values[0])).toBe(false);
  });
});
