/**
 * The alert state machine, Given / When / Then: a rule's state, the expression's result at a time
 * t (the clock is the evaluation time passed in), the state and transitions that follow.
 */
import {
  decideAlerts,
  emptyRuleState,
  RESOLVED_RETENTION_MS,
  type AlertCandidate,
  type AlertDecision,
  type AlertRuleParams,
  type RuleAlertState,
} from './alert-state.decider';

const MIN = 60_000;
const rule: AlertRuleParams = { name: 'GpuHot', forMs: 5 * MIN, keepFiringForMs: 0 };
const hot = (value = 91): AlertCandidate => ({
  labels: { gpu: '3', severity: 'P2' },
  annotations: { summary: `GPU at ${value}` },
  value,
});

/** Runs a sequence of evaluations: [t, result] pairs; returns every decision. */
function timeline(
  params: AlertRuleParams,
  steps: Array<[number, AlertCandidate[]]>,
  given: RuleAlertState = emptyRuleState(),
): AlertDecision[] {
  let state = given;
  return steps.map(([t, result]) => {
    const d = decideAlerts(state, params, result, t);
    state = d.state;
    return d;
  });
}

const kinds = (d: AlertDecision): string[] => d.transitions.map((t) => t.kind);
const only = (d: AlertDecision) => Object.values(d.state.alerts)[0];

describe('alert state machine', () => {
  it('given no alert, when the expression returns a series, then it is pending with activeAt = t', () => {
    const [d] = timeline(rule, [[0, [hot()]]]);
    expect(kinds(d)).toEqual(['pending']);
    expect(only(d)).toMatchObject({
      state: 'pending',
      activeAtMs: 0,
      labels: { alertname: 'GpuHot', gpu: '3', severity: 'P2' },
    });
    expect(d.series).toEqual([
      {
        labels: { alertname: 'GpuHot', gpu: '3', severity: 'P2', __name__: 'ALERTS', alertstate: 'pending' },
        value: 1,
      },
      { labels: { alertname: 'GpuHot', gpu: '3', severity: 'P2', __name__: 'ALERTS_FOR_STATE' }, value: 0 },
    ]);
  });

  it('given pending, when it holds for `for`, then it fires exactly once at activeAt + for', () => {
    const ds = timeline(
      rule,
      [0, 1, 2, 3, 4, 5, 6].map((m) => [m * MIN, [hot()]]),
    );
    expect(ds.map((d) => only(d).state)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'firing',
      'firing',
    ]);
    expect(ds.flatMap(kinds)).toEqual(['pending', 'firing']);
    expect(only(ds[5]).firedAtMs).toBe(5 * MIN);
    expect(ds[6].series[0].labels.alertstate).toBe('firing');
  });

  it('given pending, when the series disappears, then the alert is dropped without a resolved event', () => {
    const ds = timeline(rule, [
      [0, [hot()]],
      [MIN, []],
    ]);
    expect(kinds(ds[1])).toEqual(['dropped']);
    expect(ds[1].state.alerts).toEqual({});
    expect(ds[1].series).toEqual([]);
  });

  it('given firing, when the series disappears, then it resolves, is kept 15 minutes, then forgotten', () => {
    const zero: AlertRuleParams = { ...rule, forMs: 0 };
    const ds = timeline(zero, [
      [0, [hot()]],
      [MIN, []],
      [MIN + RESOLVED_RETENTION_MS, []],
      [2 * MIN + RESOLVED_RETENTION_MS, []],
    ]);
    expect(kinds(ds[0])).toEqual(['pending', 'firing']);
    expect(kinds(ds[1])).toEqual(['resolved']);
    expect(only(ds[1])).toMatchObject({ state: 'inactive', resolvedAtMs: MIN });
    expect(ds[1].series).toEqual([]);
    expect(Object.keys(ds[2].state.alerts)).toHaveLength(1);
    expect(ds[3].state.alerts).toEqual({});
  });

  it('given resolved, when the series comes back, then a new episode starts with a new activeAt', () => {
    const zero: AlertRuleParams = { ...rule, forMs: 0 };
    const ds = timeline(zero, [
      [0, [hot()]],
      [MIN, []],
      [2 * MIN, [hot()]],
    ]);
    expect(kinds(ds[2])).toEqual(['pending', 'firing']);
    expect(only(ds[2])).toMatchObject({ activeAtMs: 2 * MIN, state: 'firing', resolvedAtMs: null });
  });

  it('keep_firing_for holds a firing alert after the condition clears, then resolves', () => {
    const keep: AlertRuleParams = { name: 'GpuHot', forMs: 0, keepFiringForMs: 3 * MIN };
    const ds = timeline(keep, [
      [0, [hot()]],
      [MIN, []],
      [2 * MIN, []],
      [3 * MIN, []],
      [4 * MIN, []],
    ]);
    expect(ds.map((d) => only(d).state)).toEqual(['firing', 'firing', 'firing', 'firing', 'inactive']);
    expect(only(ds[1]).keepFiringSinceMs).toBe(MIN);
    expect(kinds(ds[4])).toEqual(['resolved']);
  });

  it('keep_firing_for restarts when the condition returns while held', () => {
    const keep: AlertRuleParams = { name: 'GpuHot', forMs: 0, keepFiringForMs: 2 * MIN };
    const ds = timeline(keep, [
      [0, [hot()]],
      [MIN, []],
      [2 * MIN, [hot()]],
      [3 * MIN, []],
      [4 * MIN, []],
      [5 * MIN, []],
    ]);
    expect(ds.flatMap(kinds)).toEqual(['pending', 'firing', 'resolved']);
    expect(ds[5].transitions[0].atMs).toBe(5 * MIN);
  });

  it('value and annotations follow the latest evaluation; activeAt does not move', () => {
    const ds = timeline(rule, [
      [0, [hot(91)]],
      [MIN, [hot(97)]],
    ]);
    expect(only(ds[1])).toMatchObject({ value: 97, annotations: { summary: 'GPU at 97' }, activeAtMs: 0 });
  });

  it('a longer `for` after a reload turns a firing alert back to pending', () => {
    const zero: AlertRuleParams = { ...rule, forMs: 0 };
    const [first] = timeline(zero, [[0, [hot()]]]);
    const [after] = timeline({ ...rule, forMs: 10 * MIN }, [[MIN, [hot()]]], first.state);
    expect(only(after).state).toBe('pending');
  });

  it('two results with the same labels after templating are an error', () => {
    expect(() => decideAlerts(emptyRuleState(), rule, [hot(1), hot(2)], 0)).toThrow(
      'vector contains metrics with the same labelset after applying alert labels',
    );
  });

  it('the state is plain data: it survives JSON and the decider continues from it', () => {
    const [a] = timeline(rule, [[0, [hot()]]]);
    const restored = JSON.parse(JSON.stringify(a.state)) as RuleAlertState;
    const [b] = timeline(rule, [[5 * MIN, [hot()]]], restored);
    expect(kinds(b)).toEqual(['firing']);
    expect(only(b).activeAtMs).toBe(0);
  });
});
