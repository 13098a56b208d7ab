import { parseArcwatchText } from '@arcwatch/alertmanager';
import {
  acknowledge,
  due,
  parseTimerJobId,
  pendingTimer,
  resolve,
  start,
  timerJobId,
  type Decision,
  type Timer,
} from './escalation.decider';

const policy = parseArcwatchText(
  `
escalation_policies:
  - name: gpu
    matchers: ['severity="P0"']
    ack_timeout: 30m
    repeat: 1
    levels:
      - { delay: 0s, targets: [pd-primary] }
      - { delay: 10m, targets: [pd-secondary, slack-sre] }
`,
  'arcwatch.yml',
).escalationPolicies[0];

const FP = '0123456789abcdef';
const T0 = Date.parse('2026-12-03T10:00:00Z');
const at = (min: number): Date => new Date(T0 + min * 60_000);
const timerOf = (d: Decision): Timer => {
  const s = d.actions.find((a) => a.kind === 'schedule');
  if (!s || s.kind !== 'schedule') throw new Error('no timer');
  return s.timer;
};

describe('escalation (Given / When / Then)', () => {
  it('given a P0 alert firing, when nobody acts, then level 1 pages at once, level 2 after 10m, then the chain repeats once and stops', () => {
    let d = start(undefined, FP, 'e1', policy, at(0));
    expect(timerJobId(timerOf(d))).toBe(`esc-${FP}-e1-c0-l1`);
    expect(d.state.nextAt).toBe(at(0).toISOString());
    d = due(d.state, timerOf(d), policy, true, at(0));
    expect(d.actions[0]).toEqual({ kind: 'page', level: 1, cycle: 0, targets: ['pd-primary'] });
    expect(timerOf(d)).toEqual({ fingerprint: FP, epoch: 1, cycle: 0, level: 2 });
    expect(d.state.nextAt).toBe(at(10).toISOString());
    d = due(d.state, timerOf(d), policy, true, at(10));
    expect(d.actions[0]).toEqual({ kind: 'page', level: 2, cycle: 0, targets: ['pd-secondary', 'slack-sre'] });
    expect(timerOf(d)).toMatchObject({ cycle: 1, level: 1 });
    d = due(d.state, timerOf(d), policy, true, at(20));
    d = due(d.state, timerOf(d), policy, true, at(30));
    expect(d.actions).toEqual([{ kind: 'page', level: 2, cycle: 1, targets: ['pd-secondary', 'slack-sre'] }]);
    expect(d.state.status).toBe('exhausted');
    expect(pendingTimer(d.state)).toBeUndefined();
  });

  it('given level 1 paged, when acknowledged, then level 2 never fires; when the ack lapses still firing, level 1 pages again', () => {
    let d = start(undefined, FP, 'e1', policy, at(0));
    d = due(d.state, timerOf(d), policy, true, at(0));
    const staleLevel2 = timerOf(d);
    const acked = acknowledge(d.state, policy, at(5));
    expect(acked.actions[0]).toEqual({ kind: 'acknowledge', targets: ['pd-primary'] });
    expect(due(acked.state, staleLevel2, policy, true, at(10)).actions).toEqual([]);
    const rearm = timerOf(acked);
    expect(timerJobId(rearm)).toBe(`esc-${FP}-e2-c0-l1`);
    expect(acked.state.nextAt).toBe(at(35).toISOString());
    const again = due(acked.state, rearm, policy, true, at(35));
    expect(again.actions[0]).toEqual({ kind: 'page', level: 1, cycle: 0, targets: ['pd-primary'] });
    expect(again.state.status).toBe('active');
  });

  it('given an escalation, when the alert resolves, then timers are void and the paged targets are told', () => {
    let d = start(undefined, FP, 'e1', policy, at(0));
    d = due(d.state, timerOf(d), policy, true, at(0));
    const pending = timerOf(d);
    const r = resolve(d.state, policy);
    expect(r.actions).toEqual([{ kind: 'resolve', targets: ['pd-primary'] }]);
    expect(due(r.state, pending, policy, true, at(10)).actions).toEqual([]);
  });

  it('given a timer whose alert no longer fires when re-read, then it resolves instead of paging', () => {
    const d = start(undefined, FP, 'e1', policy, at(0));
    expect(due(d.state, timerOf(d), policy, false, at(0)).state.status).toBe('resolved');
  });

  it('a duplicated timer (redelivered job, reconciler race) pages once', () => {
    let d = start(undefined, FP, 'e1', policy, at(0));
    const t = timerOf(d);
    d = due(d.state, t, policy, true, at(0));
    expect(due(d.state, t, policy, true, at(0)).actions).toEqual([]);
  });

  it('the same episode arriving again starts nothing; a new episode starts over with a new epoch', () => {
    const d = start(undefined, FP, 'e1', policy, at(0));
    expect(start(d.state, FP, 'e1', policy, at(1)).actions).toEqual([]);
    const r = resolve(d.state, policy);
    expect(start(r.state, FP, 'e2', policy, at(60)).state.epoch).toBe(r.state.epoch + 1);
  });

  it('job ids carry fingerprint, epoch, cycle and level and read back', () => {
    expect(parseTimerJobId(`esc-${FP}-e3-c1-l2`)).toEqual({ fingerprint: FP, epoch: 3, cycle: 1, level: 2 });
    expect(parseTimerJobId('esc-nothex-e1-c0-l1')).toBeUndefined();
  });
});

describe('escalation that ran out of levels', () => {
  it('still resolves the incident when the alert ends', () => {
    const single = { ...policy, repeat: 0, levels: [policy.levels[0]] };
    let d = start(undefined, FP, 'e1', single, at(0));
    d = due(d.state, timerOf(d), single, true, at(0));
    expect(d.state.status).toBe('exhausted');
    expect(resolve(d.state, single).actions).toEqual([{ kind: 'resolve', targets: ['pd-primary'] }]);
  });
});
