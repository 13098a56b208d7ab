/**
 * Evaluation cost: every rule group of infra/rules and of the kube-prometheus rule files, evaluated
 * as the anomaly service evaluates them (RuleGroupEvaluator over a LiveWindow, outputs appended to
 * the window), over the 1,000-GPU reference fleet (shared/bench/fleet.mjs) held in the window.
 * The window is filled with `minutes` of 15 s scrapes first (not timed); then each round adds one
 * scrape and times one evaluation of every group at that scrape's time.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadAlertRuleFiles, RuleGroupEvaluator, type OutputSample } from '@arcwatch/alerting';
import { PromqlEngine } from '@arcwatch/promql';
import { BENCH_DIR, FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';
import { LiveWindow } from '../src/window/live-window';

const STEP_MS = 15_000;

interface FleetSeries {
  name: string;
  family: string;
  node: number;
  fullLabels: Record<string, string>;
}
interface FleetLike {
  series: FleetSeries[];
  values: Float64Array;
  nodeInfo: Array<{ host: string }>;
  step(dtSec: number): void;
}
type FleetCtor = new (o: { nodes: number; seed?: number }) => FleetLike;

async function loadFleet(): Promise<FleetCtor> {
  // fleet.mjs is an ES module; the swc build turns import() into require(), so import it at run time.
  const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<{ Fleet: FleetCtor }>;
  return (await dynamicImport(pathToFileURL(path.join(BENCH_DIR, 'fleet.mjs')).href)).Fleet;
}

export function evalRuleFiles(): string[] {
  const kube = path.join(FIXTURES_DIR, 'alert-rules', 'kube-prometheus');
  return [
    path.join(REPO_ROOT, 'infra/rules/llm-fleet.rules.yml'),
    ...readdirSync(kube)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => path.join(kube, f)),
  ];
}

export interface EvalRun {
  files: string[];
  groups: number;
  alerting: number;
  recording: number;
  series: number;
  windowSamples: number;
  fillMs: number;
  rounds: number[];
  /** Per round and group: ms; the slowest groups by median. */
  slowest: Array<{ group: string; ms: number; rules: number }>;
  /** One core's share the groups take at their own intervals (group ms / interval, summed). */
  coreShare: number;
  errors: number;
  active: { pending: number; firing: number };
}

export async function runRuleEval(opts: {
  nodes: number;
  minutes: number;
  rounds: number;
  defaultIntervalMs: number;
  log: (line: string) => void;
}): Promise<EvalRun> {
  const Fleet = await loadFleet();
  const fleet = new Fleet({ nodes: opts.nodes, seed: 1 });
  // As a scrape stores them: the target's job and instance on every series, and one `up` per target.
  const labels = fleet.series.map((s) => ({
    __name__: s.name,
    ...s.fullLabels,
    job: s.family.startsWith('DCGM_') ? 'dcgm-exporter' : 'vllm',
  }));
  const ups = fleet.nodeInfo.flatMap((n) =>
    ['dcgm-exporter', 'vllm'].map((job) => ({ __name__: 'up', job, instance: n.host })),
  );
  const window = new LiveWindow(opts.minutes * 60_000 + 60 * 60_000);
  const scrapes = Math.round((opts.minutes * 60_000) / STEP_MS);
  const end = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const addScrape = (t: number) => {
    fleet.step(STEP_MS / 1000);
    const v = fleet.values;
    for (let i = 0; i < labels.length; i++) window.add(labels[i], t, v[i]);
    for (const u of ups) window.add(u, t, 1);
  };
  const fillStart = performance.now();
  for (let k = 0; k < scrapes; k++) {
    addScrape(end - (scrapes - 1 - k) * STEP_MS);
    if ((k + 1) % 60 === 0) opts.log(`  window: ${k + 1} / ${scrapes} scrapes`);
  }
  const fillMs = performance.now() - fillStart;

  const files = evalRuleFiles();
  const groups = loadAlertRuleFiles(files, { defaultIntervalMs: opts.defaultIntervalMs });
  const engine = new PromqlEngine(window, { lookbackDeltaMs: 5 * 60_000 });
  const sink = {
    append: (xs: OutputSample[]) => {
      for (const s of xs) window.add(s.labels, s.timeMs, s.value);
    },
  };
  const evaluators = groups.map((g) => new RuleGroupEvaluator(g, { engine, sink }));
  const perGroup = groups.map(() => [] as number[]);
  const rounds: number[] = [];
  let errors = 0;
  for (let r = 0; r < opts.rounds + 1; r++) {
    const t = end + (r + 1) * STEP_MS;
    addScrape(t);
    const started = performance.now();
    for (let i = 0; i < evaluators.length; i++) {
      const g0 = performance.now();
      const res = await evaluators[i].evaluate(t);
      if (r > 0) perGroup[i].push(performance.now() - g0);
      if (r === opts.rounds) errors += res.errors.length;
    }
    // Round 0 warms the engine and gives every rule its first state; it is not counted.
    if (r > 0) rounds.push(performance.now() - started);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const groupMs = perGroup.map(median);
  const slowest = groups
    .map((g, i) => ({ group: `${path.basename(g.file)} / ${g.name}`, ms: groupMs[i], rules: g.rules.length }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3);
  const active = { pending: 0, firing: 0 };
  for (const e of evaluators)
    for (const s of e.alertStates)
      for (const a of Object.values(s.alerts)) if (a.state === 'pending' || a.state === 'firing') active[a.state]++;
  return {
    files,
    groups: groups.length,
    alerting: groups.reduce((n, g) => n + g.alerting.length, 0),
    recording: groups.reduce((n, g) => n + g.rules.length - g.alerting.length, 0),
    series: labels.length + ups.length,
    windowSamples: (labels.length + ups.length) * (scrapes + opts.rounds + 1),
    fillMs,
    rounds,
    slowest,
    coreShare: groups.reduce((s, g, i) => s + groupMs[i] / g.intervalMs, 0),
    errors,
    active,
  };
}
