import { readFileSync } from 'node:fs';
import { LineCounter, isMap, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { CollectorError } from '../errors';
import { IGNORED_SCRAPE_KEYS, IGNORED_TOP_KEYS, scrapeFileSchema, type ScrapeFileRaw, type ScrapeSettings } from './scrape-config.schema';

/** One problem in a config file, located the way an editor wants it. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
}

export class ConfigFileError extends CollectorError {
  constructor(readonly issues: ConfigIssue[]) {
    super('CONFIG_INVALID', issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`).join('\n'));
  }
}

type PathKey = string | number;

/** Where in the document a zod path points: the deepest node that exists on that path. */
function locate(doc: Document, lines: LineCounter, path: readonly PathKey[]): { line: number; column: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      // For a missing or unknown key, point at the key itself where the parent map has it.
      const pos = lines.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}

/** The line of a key (not its value) in a map, for "unknown key" errors. */
function locateKey(doc: Document, lines: LineCounter, parent: readonly PathKey[], key: string): { line: number; column: number } | undefined {
  const map = parent.length === 0 ? doc.contents : doc.getIn(parent, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
  const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return undefined;
  const pos = lines.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

function fieldName(path: readonly PathKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '') || '(root)';
}

function issuesOf(file: string, doc: Document, lines: LineCounter, error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = locateKey(doc, lines, path, key) ?? locate(doc, lines, path);
        out.push({ file, ...at, field: fieldName([...path, key]), message: 'unknown field' });
      }
      continue;
    }
    out.push({ file, ...locate(doc, lines, path), field: fieldName(path), message: issue.message });
  }
  return out;
}

function collectWarnings(raw: ScrapeFileRaw): string[] {
  const warnings: string[] = [];
  const top = raw as Record<string, unknown>;
  for (const k of IGNORED_TOP_KEYS) if (top[k] !== undefined) warnings.push(`${k}: not used by the collector, ignored`);
  raw.scrape_configs.forEach((sc, i) => {
    const rec = sc as Record<string, unknown>;
    for (const k of IGNORED_SCRAPE_KEYS) {
      if (rec[k] !== undefined) warnings.push(`scrape_configs[${i}].${k}: not implemented by the collector, ignored`);
    }
  });
  return warnings;
}

/** Validates a scrape configuration text; `file` only names the source in errors. */
export function parseScrapeConfig(text: string, file: string): ScrapeSettings {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, field: '(yaml)', message: e.message.split('\n')[0] };
      }),
    );
  }
  const parsed = scrapeFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigFileError(issuesOf(file, doc, lines, parsed.error));
  const raw = parsed.data;
  return {
    cluster: raw.arcwatch.cluster,
    warnings: collectWarnings(raw),
    jobs: raw.scrape_configs.map((sc) => {
      const intervalMs = sc.scrape_interval ?? raw.global.scrape_interval;
      return {
        jobName: sc.job_name,
        intervalMs,
        timeoutMs: sc.scrape_timeout ?? Math.min(raw.global.scrape_timeout, intervalMs),
        metricsPath: sc.metrics_path,
        scheme: sc.scheme,
        params: sc.params,
        honorLabels: sc.honor_labels,
        honorTimestamps: sc.honor_timestamps,
        sampleLimit: sc.sample_limit,
        seriesLimit: raw.arcwatch.jobs[sc.job_name]?.series_limit ?? raw.arcwatch.series_limit,
        staticConfigs: sc.static_configs,
        fileSdConfigs: sc.file_sd_configs.map((f) => ({ files: f.files, refreshIntervalMs: f.refresh_interval })),
        relabelConfigs: sc.relabel_configs,
        metricRelabelConfigs: sc.metric_relabel_configs,
      };
    }),
  };
}

export function loadScrapeConfigFile(file: string): ScrapeSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError([{ file, line: 0, column: 0, field: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseScrapeConfig(text, file);
}
