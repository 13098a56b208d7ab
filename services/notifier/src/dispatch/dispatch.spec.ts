import { parseAlertmanagerConfig } from '@arcwatch/alertmanager';
import {
  AggregationGroups,
  commonOf,
  isResolved,
  needsUpdate,
  type DispatchAlert,
  type NotifiedEntry,
} from './dispatch.decider';

const CONFIG = `
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="P0"']
      receiver: pager
      continue: true
    - matchers: ['team="ml"']
      receiver: ml-slack
receivers: [{name: default}, {name: pager}, {name: ml-slack}]
`;

const T0 = Date.parse('2026-12-03T10:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const alert = (
  fp: string,
  labels: Record<string, string>,
  startsAt = at(0),
  endsAt: Date | null = null,
): DispatchAlert => ({
  fingerprint: fp,
  labels,
  annotations: {},
  startsAt,
  endsAt,
  generatorURL: '',
});

describe('aggregation groups (Given / When / Then, clock passed in)', () => {
  const config = parseAlertmanagerConfig(CONFIG, 'am.yml');

  it('given a new P0 alert of team ml, when it arrives, then it joins the pager and the ml-slack groups, each flushing after group_wait', () => {
    const groups = new AggregationGroups(config);
    const keys = groups.insert(alert('aaaaaaaaaaaaaaaa', { alertname: 'GpuDown', severity: 'P0', team: 'ml' }), at(0));
    expect(keys).toEqual(['{}/{severity="P0"}:{alertname="GpuDown"}', '{}/{team="ml"}:{alertname="GpuDown"}']);
    expect(groups.due(at(29))).toEqual([]);
    expect(groups.due(at(30)).map((g) => g.receiver)).toEqual(['pager', 'ml-slack']);
  });

  it('given a flushed group, when another alert of it arrives, then it waits for the next group_interval, not group_wait', () => {
    const groups = new AggregationGroups(config);
    const [key] = groups.insert(alert('aaaaaaaaaaaaaaaa', { alertname: 'X', severity: 'P0' }), at(0));
    groups.flushed(key, at(30), []);
    groups.insert(alert('bbbbbbbbbbbbbbbb', { alertname: 'X', severity: 'P0' }, at(40)), at(40));
    expect(groups.due(at(329))).toEqual([]);
    expect(groups.due(at(330)).map((g) => g.key)).toEqual([key]);
  });

  it('given an alert that started longer than group_wait ago (a restart, a late delivery), then its new group flushes at once', () => {
    const groups = new AggregationGroups(config);
    groups.insert(alert('aaaaaaaaaaaaaaaa', { alertname: 'Old' }, at(-600)), at(0));
    expect(groups.due(at(0))).toHaveLength(1);
  });

  it('given every alert of a group resolved and notified, then the group goes away', () => {
    const groups = new AggregationGroups(config);
    const [key] = groups.insert(alert('aaaaaaaaaaaaaaaa', { alertname: 'X' }), at(0));
    groups.flushed(key, at(30), ['aaaaaaaaaaaaaaaa']);
    expect(groups.get(key)).toBeUndefined();
    expect(groups.nextDue()).toBeUndefined();
  });

  it('reads resolution from endsAt against now', () => {
    expect(isResolved({ endsAt: null }, at(0))).toBe(false);
    expect(isResolved({ endsAt: at(10) }, at(5))).toBe(false);
    expect(isResolved({ endsAt: at(10) }, at(10))).toBe(true);
    expect(
      commonOf([
        { a: '1', b: '2' },
        { a: '1', b: '3' },
      ]),
    ).toEqual({ a: '1' });
  });
});

describe("Alertmanager's dedup rules (needsUpdate)", () => {
  const entry = (firing: string[], resolved: string[], atS: number): NotifiedEntry => ({
    sequence: 1,
    firing,
    resolved,
    at: at(atS),
  });
  const H4 = 4 * 3600_000;

  it('notifies a first firing set, never an empty one', () => {
    expect(needsUpdate(undefined, ['a'], [], false, H4, at(0))).toBe(true);
    expect(needsUpdate(undefined, [], ['a'], true, H4, at(0))).toBe(false);
  });

  it('notifies when a new alert fires, not when one of the notified set is still firing', () => {
    expect(needsUpdate(entry(['a'], [], 0), ['a', 'b'], [], false, H4, at(60))).toBe(true);
    expect(needsUpdate(entry(['a', 'b'], [], 0), ['a'], ['b'], false, H4, at(60))).toBe(false);
  });

  it('tells a send_resolved integration about a newly resolved alert', () => {
    expect(needsUpdate(entry(['a', 'b'], [], 0), ['a'], ['b'], true, H4, at(60))).toBe(true);
    expect(needsUpdate(entry(['a'], ['b'], 0), ['a'], ['b'], true, H4, at(60))).toBe(false);
  });

  it('notifies "all resolved" once, whatever send_resolved says', () => {
    expect(needsUpdate(entry(['a'], [], 0), [], ['a'], false, H4, at(60))).toBe(true);
    expect(needsUpdate(entry([], ['a'], 60), [], ['a'], false, H4, at(120))).toBe(false);
  });

  it('repeats after repeat_interval and not before', () => {
    expect(needsUpdate(entry(['a'], [], 0), ['a'], [], false, H4, at(4 * 3600))).toBe(false);
    expect(needsUpdate(entry(['a'], [], 0), ['a'], [], false, H4, at(4 * 3600 + 1))).toBe(true);
  });
});
