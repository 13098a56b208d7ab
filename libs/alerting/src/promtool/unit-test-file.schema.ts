/**
 * The promtool rule unit-test file (`rule_files`, `evaluation_interval`, `group_eval_order`,
 * `tests:` with `interval`, `input_series`, `alert_rule_test`, `promql_expr_test`,
 * `external_labels`, `external_url`, `name`, `start_timestamp`). Read with YAML's failsafe schema
 * so that scalars keep their text, as Go's yaml.v2 does for string fields, and checked strictly:
 * an unknown field is an error, as with promtool's UnmarshalStrict.
 */
import YAML from 'yaml';
import { z } from 'zod';
import { parseModelDuration } from './promtool-format';

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const nullish = (v: unknown): unknown => (typeof v === 'string' && NULLS.has(v) ? undefined : v);

const str = z.preprocess((v) => (typeof v === 'string' && (v === '~' || v === 'null') ? '' : v), z.string());
const durationMs = z.preprocess(
  nullish,
  z
    .string()
    .transform((s, ctx) => {
      const ms = parseModelDuration(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a valid duration string: "${s}"` });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
);
const float = z.preprocess(
  nullish,
  z
    .string()
    .transform((s, ctx) => {
      const t = s.trim();
      const special: Record<string, number> = {
        '.inf': Infinity,
        '+.inf': Infinity,
        '-.inf': -Infinity,
        '.nan': NaN,
        inf: Infinity,
        '+inf': Infinity,
        '-inf': -Infinity,
        nan: NaN,
      };
      if (t.toLowerCase() in special) return special[t.toLowerCase()];
      const n = /^0x/i.test(t) ? parseInt(t, 16) : Number(t.replace(/_/g, ''));
      if (t === '' || Number.isNaN(n)) {
        ctx.addIssue({ code: 'custom', message: `cannot unmarshal !!str \`${s}\` into float64` });
        return z.NEVER;
      }
      return n;
    })
    .optional(),
);
const list = <T extends z.ZodType>(item: T) => z.preprocess(nullish, z.array(item).optional());
const stringMap = z.preprocess(nullish, z.record(z.string(), str).optional());
const bool = z.preprocess(
  nullish,
  z
    .enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE'])
    .transform((s) => s.toLowerCase() === 'true')
    .optional(),
);

const expAlert = z.preprocess(
  (v) => nullish(v) ?? {},
  z.object({ exp_labels: stringMap, exp_annotations: stringMap }).strict(),
);

const alertTest = z
  .object({
    eval_time: durationMs,
    alertname: z.preprocess(nullish, str.optional()),
    exp_alerts: list(expAlert),
  })
  .strict();

const expSample = z
  .object({
    labels: z.preprocess(nullish, str.optional()),
    value: float,
    histogram: z.preprocess(nullish, str.optional()),
  })
  .strict();

const promqlTest = z
  .object({
    expr: z.preprocess(nullish, str.optional()),
    eval_time: durationMs,
    exp_samples: list(expSample),
  })
  .strict();

const inputSeries = z
  .object({ series: z.preprocess(nullish, str.optional()), values: z.preprocess(nullish, str.optional()) })
  .strict();

const testGroup = z.preprocess(
  (v) => nullish(v) ?? {},
  z
    .object({
      interval: durationMs,
      input_series: list(inputSeries),
      alert_rule_test: list(alertTest),
      promql_expr_test: list(promqlTest),
      external_labels: stringMap,
      external_url: z.preprocess(nullish, str.optional()),
      name: z.preprocess(nullish, str.optional()),
      start_timestamp: z.preprocess(nullish, str.optional()),
    })
    .strict(),
);

export const unitTestFileSchema = z
  .object({
    rule_files: list(str),
    evaluation_interval: durationMs,
    group_eval_order: list(str),
    tests: list(testGroup),
    fuzzy_compare: bool,
  })
  .strict();

export type UnitTestFile = z.infer<typeof unitTestFileSchema>;
export type TestGroup = NonNullable<UnitTestFile['tests']>[number];

export class UnitTestFileError extends Error {
  readonly code = 'UNIT_TEST_FILE_INVALID';
}

/** Parses and validates a unit-test file; errors name the line and field. */
export function parseUnitTestFile(text: string, file: string): UnitTestFile {
  let doc = YAML.parseDocument(text, { schema: 'failsafe', uniqueKeys: true });
  if (doc.errors.length > 0) {
    const retry = YAML.parseDocument(reindentQuotedContinuations(text), { schema: 'failsafe', uniqueKeys: true });
    if (retry.errors.length > 0) throw new UnitTestFileError(`${file}: yaml: ${doc.errors[0].message.split('\n')[0]}`);
    doc = retry;
  }
  const parsed = unitTestFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const path = i.path.map(String);
      const node = doc.getIn(path.slice(0, i.code === 'unrecognized_keys' ? path.length : path.length), true) as
        { range?: [number, number] } | undefined;
      const pos = node?.range ? lineOf(text, node.range[0]) : undefined;
      const what =
        i.code === 'unrecognized_keys' ? `field ${(i as { keys: string[] }).keys.join(', ')} not found` : i.message;
      return `  ${pos ? `line ${pos}: ` : ''}${path.join('.')}: ${what}`;
    });
    throw new UnitTestFileError(`yaml: unmarshal errors:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/**
 * Go's YAML reader accepts a multi-line quoted scalar whose continuation lines are indented less
 * than its key; the `yaml` package does not. Folding drops a continuation line's leading
 * blanks anyway, so indenting those lines further leaves the value unchanged.
 */
export function reindentQuotedContinuations(text: string): string {
  const lines = text.split('\n');
  let open: { quote: string; indent: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (open) {
      const indent = /^ */.exec(line)![0].length;
      if (line.trim() !== '' && indent <= open.indent) lines[i] = ' '.repeat(open.indent + 2) + line.trimStart();
      if (closes(line, open.quote)) open = undefined;
      continue;
    }
    const m = /^( *)(?:- )?[^#'"]*?:\s+(["'])(.*)$/.exec(line);
    if (m && !closes(m[3], m[2])) open = { quote: m[2], indent: m[1].length };
  }
  return lines.join('\n');
}

function closes(rest: string, quote: string): boolean {
  for (let i = 0; i < rest.length; i++) {
    if (quote === '"' && rest[i] === '\\') i++;
    else if (rest[i] === quote) {
      if (quote === "'" && rest[i + 1] === "'") i++;
      else return true;
    }
  }
  return false;
}
