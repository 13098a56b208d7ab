/**
 * The compliance tester's query corpus (`promql-test-queries.yml`) and its variant expansion.
 * The variant values are the tester's own (they live in its code, not in the YAML): a template
 * query is expanded into the cross product of the values of its `variant_args`, in their order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export const VARIANT_VALUES: Readonly<Record<string, readonly string[]>> = {
  range: ['1s', '15s', '1m', '5m', '15m', '1h'],
  offset: ['1m', '5m', '10m'],
  simpleAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar'],
  simpleTimeAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'absent', 'last'],
  topBottomOp: ['topk', 'bottomk'],
  quantile: ['-0.5', '0.1', '0.5', '0.75', '0.95', '0.90', '0.99', '1', '1.5'],
  arithBinOp: ['+', '-', '*', '/', '%', '^'],
  compBinOp: ['==', '!=', '<', '>', '<=', '>='],
  binOp: ['+', '-', '*', '/', '%', '^', '==', '!=', '<', '>', '<=', '>='],
  simpleMathFunc: ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'round'],
  extrapolatedRateFunc: ['delta', 'rate', 'increase'],
  clampFunc: ['clamp_min', 'clamp_max'],
  instantRateFunc: ['idelta', 'irate'],
  dateFunc: ['day_of_month', 'day_of_week', 'days_in_month', 'hour', 'minute', 'month', 'year'],
  smoothingFactor: ['0.1', '0.5', '0.8'],
  trendFactor: ['0.1', '0.5', '0.8'],
};

const corpusSchema = z.object({
  test_cases: z.array(
    z.object({
      query: z.string().min(1),
      should_fail: z.boolean().optional(),
      variant_args: z.array(z.string()).optional(),
    }),
  ),
});

export interface ComplianceCase {
  /** The query as run. */
  query: string;
  /** The corpus entry it was expanded from. */
  template: string;
  shouldFail: boolean;
}

export const CORPUS_FILE = 'promql-compliance/promql-test-queries.yml';

function fill(template: string, args: Record<string, string>): string {
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (m, name: string) => {
    const v = args[name];
    if (v === undefined)
      throw new Error(`query ${JSON.stringify(template)} uses {{.${name}}} without a variant arg for it`);
    return v;
  });
}

function variants(template: string, remaining: readonly string[], args: Record<string, string>): string[] {
  if (remaining.length === 0) return [fill(template, args)];
  const [arg, ...rest] = remaining as [string, ...string[]];
  const values = VARIANT_VALUES[arg];
  if (!values) throw new Error(`unknown variant arg ${JSON.stringify(arg)} in ${JSON.stringify(template)}`);
  return values.flatMap((v) => variants(template, rest, { ...args, [arg]: v }));
}

/** Expands corpus YAML text into the queries the tester would run. */
export function expandCorpus(yamlText: string): ComplianceCase[] {
  const parsed = corpusSchema.safeParse(parse(yamlText));
  if (!parsed.success)
    throw new Error(
      `compliance corpus: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data.test_cases.flatMap((tc) =>
    variants(tc.query, tc.variant_args ?? [], {}).map((query) => ({
      query,
      template: tc.query,
      shouldFail: tc.should_fail ?? false,
    })),
  );
}

export function loadCorpus(fixturesDir: string): ComplianceCase[] {
  return expandCorpus(readFileSync(path.join(fixturesDir, CORPUS_FILE), 'utf8'));
}
