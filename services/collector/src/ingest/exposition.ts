import type { MetricMetadata } from '@arcwatch/contracts';
import { LabelCache, parseExposition, type ExpositionFormat, type MetricFamily } from '@arcwatch/exposition';
import type { ScrapedSample } from '../scrape/scrape-batch';

/** The exposition parse as the collector uses it: samples plus the lines that were refused. */
export interface ParsedExposition {
  samples: ScrapedSample[];
  errors: Array<{ line: number; message: string }>;
  /** DCGM "blank" sentinels the parser dropped on purpose. */
  dropped: number;
  /** The families the body described (a TYPE other than untyped, a HELP or a UNIT). */
  metadata: MetricMetadata[];
}

/** A family as /api/v1/metadata reports it: text 0.0.4's `untyped` is Prometheus's `unknown`. */
export function familyMetadata(families: readonly MetricFamily[]): MetricMetadata[] {
  const out: MetricMetadata[] = [];
  for (const f of families) {
    const type = f.type === 'untyped' ? 'unknown' : f.type;
    if (type === 'unknown' && !f.help && !f.unit) continue;
    out.push({ metric: f.name, type, ...(f.help ? { help: f.help } : {}), ...(f.unit ? { unit: f.unit } : {}) });
  }
  return out;
}

/** OpenMetrics when the server says so (or the body ends with its `# EOF`), else text 0.0.4. */
export function formatOf(contentType: string | undefined, body: string): ExpositionFormat {
  if (contentType?.toLowerCase().startsWith('application/openmetrics-text')) return 'openmetrics';
  if (contentType === undefined || contentType === '' || contentType.startsWith('application/octet-stream')) {
    return /(^|\n)# EOF\s*$/.test(body) ? 'openmetrics' : 'prometheus';
  }
  return 'prometheus';
}

/** Label caches for parseBody, one per format: the two formats accept different label texts. */
export type LabelCaches = Record<ExpositionFormat, LabelCache>;

export function newLabelCaches(): LabelCaches {
  return { prometheus: new LabelCache(), openmetrics: new LabelCache() };
}

/** `labelCaches`: one per format, kept across calls, so a known label text allocates nothing. */
export function parseBody(body: string, contentType: string | undefined, labelCaches?: LabelCaches): ParsedExposition {
  const format = formatOf(contentType, body);
  const result = parseExposition(body, { format, ...(labelCaches ? { labelCache: labelCaches[format] } : {}) });
  const parsed: ParsedExposition = {
    samples: result.samples,
    errors: result.errors.map((e) => ({ line: e.line, message: e.message })),
    dropped: result.dropped,
    metadata: familyMetadata(result.families),
  };
  return body.includes('\u0000') ? withoutNul(body, parsed) : parsed;
}

const hasNul = (s: string | undefined): boolean => s !== undefined && s.includes('\u0000');
const labelsHaveNul = (labels: Record<string, string>): boolean =>
  Object.entries(labels).some(([k, v]) => hasNul(k) || hasNul(v));

/**
 * The exposition formats allow any UTF-8 in label values and HELP text, but PostgreSQL stores
 * no NUL character (U+0000) in text or jsonb: a sample carrying one would be accepted here and
 * then refused by the writer on every redelivery. Such lines are refused up front instead.
 */
function withoutNul(body: string, parsed: ParsedExposition): ParsedExposition {
  const errors = [...parsed.errors];
  body.split('\n').forEach((line, i) => {
    if (line.includes('\u0000'))
      errors.push({ line: i + 1, message: 'contains a NUL character (U+0000), which cannot be stored' });
  });
  errors.sort((a, b) => a.line - b.line);
  return {
    ...parsed,
    samples: parsed.samples.filter(
      (s) => !hasNul(s.name) && !labelsHaveNul(s.labels) && !(s.exemplar && labelsHaveNul(s.exemplar.labels)),
    ),
    errors,
    metadata: parsed.metadata.filter((m) => !hasNul(m.metric) && !hasNul(m.help) && !hasNul(m.unit)),
  };
}
