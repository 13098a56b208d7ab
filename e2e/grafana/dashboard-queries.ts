/**
 * Reads the Grafana dashboards under infra/grafana/dashboards and turns every panel target and
 * template variable into the query Grafana would send: template variables replaced by a value,
 * `$__rate_interval` / `$__interval` / `$__range` worked out the way Grafana's Prometheus data
 * source does, so a test can run them against ArcWatch's query API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '@arcwatch/testing';

export const GRAFANA_DIR = path.join(REPO_ROOT, 'infra', 'grafana');
export const DASHBOARD_DIR = path.join(GRAFANA_DIR, 'dashboards');

const targetSchema = z.object({
  refId: z.string(),
  expr: z.string().min(1),
  interval: z.string().optional(),
  instant: z.boolean().optional(),
  range: z.boolean().optional(),
  exemplar: z.boolean().optional(),
  datasource: z.object({ type: z.string(), uid: z.string() }).optional(),
});

interface RawPanel {
  id: number;
  type: string;
  title: string;
  interval?: string;
  datasource?: { type: string; uid: string };
  targets?: z.infer<typeof targetSchema>[];
  panels?: RawPanel[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const panelSchema: z.ZodType<RawPanel> = z.lazy(() =>
  z.object({
    id: z.number().int(),
    type: z.string(),
    title: z.string().min(1),
    interval: z.string().optional(),
    datasource: z.object({ type: z.string(), uid: z.string() }).optional(),
    targets: z.array(targetSchema).optional(),
    panels: z.array(panelSchema).optional(),
    gridPos: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
  }),
);

const variableSchema = z.object({
  name: z.string().regex(/^\w+$/),
  type: z.enum(['datasource', 'query', 'custom', 'interval', 'constant', 'textbox']),
  query: z.union([z.string(), z.object({ query: z.string() })]).optional(),
  multi: z.boolean().optional(),
  includeAll: z.boolean().optional(),
  allValue: z.string().optional(),
});

export const dashboardSchema = z.object({
  uid: z.string().min(1),
  title: z.string().min(1),
  schemaVersion: z.number().int(),
  panels: z.array(panelSchema),
  templating: z.object({ list: z.array(variableSchema) }),
});

export type Dashboard = z.infer<typeof dashboardSchema>;
export type Variable = z.infer<typeof variableSchema>;

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

export function loadDashboards(dir = DASHBOARD_DIR): DashboardFile[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = dashboardSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
      return { file, dashboard: parsed.data };
    });
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): RawPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  /** The panel's or target's minimum interval (Grafana's "Min interval"), when set. */
  minInterval?: string;
  instant: boolean;
  /** Grafana's Exemplars toggle: it also asks /api/v1/query_exemplars for the expression. */
  exemplar: boolean;
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      dashboard: d.title,
      panel: p.title,
      refId: t.refId,
      expr: t.expr,
      minInterval: t.interval ?? p.interval,
      instant: t.instant === true && t.range !== true,
      exemplar: t.exemplar === true,
    })),
  );
}

/** `label_values(metric{…}, label)` or `label_values(label)`, the form these dashboards use. */
export interface LabelValuesQuery {
  label: string;
  match?: string;
}

export function parseLabelValues(query: string): LabelValuesQuery {
  const m = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$/.exec(query);
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  return m[1] ? { label: m[2], match: m[1] } : { label: m[2] };
}

export function variableQuery(v: Variable): string | undefined {
  if (v.query === undefined) return undefined;
  return typeof v.query === 'string' ? v.query : v.query.query;
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** A PromQL duration in whole seconds (or ms below a second), as Grafana writes `$__interval`. */
export function promDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export interface TimeRange {
  startMs: number;
  endMs: number;
}

export interface IntervalSettings {
  /** The data source's "Scrape interval" (jsonData.timeInterval). */
  scrapeIntervalMs: number;
  /** Grafana's max data points for a panel (its width in pixels, about 1,000 on a wide screen). */
  maxDataPoints: number;
}

/**
 * Grafana's interval arithmetic: `$__interval` is range / max data points, at least the min
 * interval (the target's, else the data source's scrape interval); `$__rate_interval` is
 * max($__interval + scrape interval, 4 × scrape interval), where the target's min interval, when
 * set, stands in for the scrape interval. The range query's step is `$__interval`.
 */
export function intervals(q: Pick<PanelQuery, 'minInterval'>, range: TimeRange, s: IntervalSettings) {
  const scrapeMs = q.minInterval ? durationMs(q.minInterval) : s.scrapeIntervalMs;
  const raw = Math.ceil((range.endMs - range.startMs) / s.maxDataPoints / 1000) * 1000;
  const intervalMs = Math.max(raw, scrapeMs);
  const rateIntervalMs = Math.max(intervalMs + scrapeMs, 4 * scrapeMs);
  return { intervalMs, rateIntervalMs, stepMs: intervalMs };
}

/** What Grafana does to a multi-value or "All" variable's value: regex characters escaped. */
export function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&');
}

export interface Substitution {
  /** Variable name → the value to write into the query (already escaped). */
  variables: Record<string, string>;
  range: TimeRange;
  intervalMs?: number;
  rateIntervalMs?: number;
}

/** Replaces `$name`, `${name}`, `${name:…}` and `[[name]]` and Grafana's built-in time variables. */
export function substitute(expr: string, s: Substitution): string {
  const rangeMs = s.range.endMs - s.range.startMs;
  const builtins: Record<string, string> = {
    __range: promDuration(Math.round(rangeMs / 1000) * 1000),
    __range_s: String(Math.round(rangeMs / 1000)),
    __range_ms: String(rangeMs),
  };
  if (s.intervalMs !== undefined) {
    builtins.__interval = promDuration(s.intervalMs);
    builtins.__interval_ms = String(s.intervalMs);
  }
  if (s.rateIntervalMs !== undefined) builtins.__rate_interval = promDuration(s.rateIntervalMs);
  const values = { ...builtins, ...s.variables };
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a: string, b: string, c: string) => {
    const name = a ?? b ?? c;
    // `$1` in label_replace is PromQL's, not a template variable.
    if (/^\d+$/.test(name)) return whole;
    const v = values[name];
    if (v === undefined) throw new Error(`no value for $${name} in ${expr}`);
    return v;
  });
}
