/**
 * Runs every expanded corpus query on the reference Prometheus and on ArcWatch's engine, as
 * instant queries at a few times and as one range query, and sorts each into pass, fail or
 * excluded (a known Prometheus 2.x / 3.x difference, named in known-differences.ts).
 */
import type { Queryable } from '@arcwatch/contracts';
import { PromqlEngine } from '../src/engine';
import type { RawResult } from '../src/engine';
import type { ComplianceCase } from './corpus';
import { knownDifferenceOf } from './known-differences';
import type { PrometheusReference, QueryOutcome } from './prometheus-reference';
import { compareOutcomes, orderMatters } from './result-compare';

export interface QueryPlan {
  /** Instant query times (ms). */
  instantTimesMs: number[];
  range: { startMs: number; endMs: number; stepMs: number };
}

export type CaseStatus = 'pass' | 'fail' | 'excluded';

export interface CaseReport {
  query: string;
  status: CaseStatus;
  /** For failures, the first difference and where it was seen; for exclusions, the reason. */
  detail?: string;
  /** A pass where every answer of the reference was empty (no series) or an expected error. */
  empty?: boolean;
}

export interface ComplianceReport {
  cases: CaseReport[];
  pass: number;
  fail: number;
  excluded: number;
  /** Passing queries whose every answer was empty or an expected failure, on both systems. */
  passEmpty: number;
  /** pass / (pass + fail): the share of the compared queries that agree. */
  passShare: number;
}

function fromRaw(r: RawResult): QueryOutcome {
  switch (r.type) {
    case 'scalar':
      return { ok: true, type: 'scalar', timeMs: r.timeMs, value: r.value };
    case 'string':
      return { ok: true, type: 'string', value: r.value };
    case 'vector':
      return {
        ok: true,
        type: 'vector',
        samples: r.samples.map((s) => ({ labels: s.labels, timeMs: r.timeMs, value: s.value })),
      };
    case 'matrix':
      return { ok: true, type: 'matrix', series: r.series };
  }
}

async function ours(run: () => Promise<{ result: RawResult }>): Promise<QueryOutcome> {
  try {
    return fromRaw((await run()).result);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function hasData(o: QueryOutcome): boolean {
  if (!o.ok) return false;
  if (o.type === 'vector') return o.samples.length > 0;
  if (o.type === 'matrix') return o.series.length > 0;
  return true;
}

async function compareCase(
  c: ComplianceCase,
  plan: QueryPlan,
  reference: PrometheusReference,
  engine: PromqlEngine,
): Promise<CaseReport> {
  const opts = { shouldFail: c.shouldFail, ordered: orderMatters(c.query) };
  let data = false;
  for (const t of plan.instantTimesMs) {
    const [want, got] = await Promise.all([
      reference.instantQuery(c.query, t),
      ours(() => engine.evaluateInstant(c.query, t)),
    ]);
    const diff = compareOutcomes(want, got, opts);
    if (diff) return { query: c.query, status: 'fail', detail: `instant @${t / 1000}: ${diff}` };
    data ||= hasData(want);
  }
  const { startMs, endMs, stepMs } = plan.range;
  const [want, got] = await Promise.all([
    reference.rangeQuery(c.query, startMs, endMs, stepMs),
    ours(() => engine.evaluateRange(c.query, startMs, endMs, stepMs)),
  ]);
  const diff = compareOutcomes(want, got, { ...opts, ordered: false });
  if (diff)
    return {
      query: c.query,
      status: 'fail',
      detail: `range ${startMs / 1000}..${endMs / 1000} step ${stepMs / 1000}s: ${diff}`,
    };
  data ||= hasData(want);
  return { query: c.query, status: 'pass', empty: !data };
}

/** Runs the cases with a little parallelism (the reference answers over HTTP, ours reads Postgres). */
export async function runCompliance(
  cases: readonly ComplianceCase[],
  plan: QueryPlan,
  reference: PrometheusReference,
  target: Queryable,
  parallelism = 4,
): Promise<ComplianceReport> {
  const engine = new PromqlEngine(target);
  const reports: CaseReport[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= cases.length) return;
      const c = cases[i]!;
      const known = knownDifferenceOf(c.query);
      if (known) {
        reports[i] = { query: c.query, status: 'excluded', detail: known };
        continue;
      }
      reports[i] = await compareCase(c, plan, reference, engine);
    }
  };
  await Promise.all(Array.from({ length: parallelism }, worker));
  const count = (s: CaseStatus) => reports.filter((r) => r.status === s).length;
  const pass = count('pass');
  const fail = count('fail');
  const passEmpty = reports.filter((r) => r.status === 'pass' && r.empty).length;
  return {
    cases: reports,
    pass,
    fail,
    excluded: count('excluded'),
    passEmpty,
    passShare: pass + fail ? pass / (pass + fail) : 0,
  };
}
