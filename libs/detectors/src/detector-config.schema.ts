import { z } from 'zod';
import { ConfigFileError, durationMs, readConfigText, YamlSource, type ConfigIssue } from '@arcwatch/config-files';
import { parsePromql, PromqlError, type Expr } from '@arcwatch/promql';
import { cusumParamsSchema } from './cusum.detector';
import { flapConfigSchema, type FlapParams } from './flap';
import { ensembleParamsSchema } from './registry';
import { robustParamsSchema } from './robust.detector';
import { seasonalParamsSchema } from './seasonal.detector';
import type { DetectorSpec } from './registry';

/**
 * Detector files (infra/detectors/*.yaml): which series to watch, with which detector, how
 * sensitive, for how long a finding must last before it alerts, and the alert's severity, labels
 * and annotations. Validated with file:line:column and field path for every problem at once.
 *
 *   detectors:
 *     - name: ttft-p99-drift
 *       selector: arcwatch_request_ttft_seconds{quantile="0.99"}
 *       detector: { kind: cusum, params: { sides: up } }
 *       sensitivity: 0.6
 *       for: 5m
 *       severity: P1
 *       labels: { team: inference }
 *       annotations: { summary: "TTFT p99 of {{ $labels.model }} drifts {{ $value }}" }
 */
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const stringMap = z.record(z.string().regex(labelName, 'not a valid label name'), z.string());

const detectorSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('robust'), params: robustParamsSchema.default(robustParamsSchema.parse({})) }).strict(),
  z
    .object({ kind: z.literal('seasonal'), params: seasonalParamsSchema.default(seasonalParamsSchema.parse({})) })
    .strict(),
  z.object({ kind: z.literal('cusum'), params: cusumParamsSchema.default(cusumParamsSchema.parse({})) }).strict(),
  z
    .object({ kind: z.literal('ensemble'), params: ensembleParamsSchema.default(ensembleParamsSchema.parse({})) })
    .strict(),
]);

/** Top-level expressions that cannot feed a detector: it needs one value per series per step. */
const NOT_A_SERIES = new Set<string>(['matrixSelector', 'subquery', 'number', 'string']);

export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

const detectorEntrySchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-zA-Z_][a-zA-Z0-9_.:-]*$/,
        'name must start with a letter or _ and hold only letters, digits, _ . : -',
      ),
    /** A PromQL expression or series selector; every series it yields gets its own detector. */
    selector: z.string().min(1, 'selector must not be empty'),
    detector: detectorSchema,
    sensitivity: z.number().min(0).max(1).default(0.5),
    /** Minimum duration a finding must last before the alert fires (Prometheus `for`). */
    for: durationMs.default(0),
    severity: z.enum(SEVERITIES),
    labels: stringMap.default({}),
    annotations: stringMap.default({}),
    flap: flapConfigSchema.optional(),
  })
  .strict();

export const detectorFileSchema = z.object({ detectors: z.array(detectorEntrySchema) }).strict();

/** One validated entry, ready for the anomaly service. */
export interface DetectorDefinition {
  file: string;
  name: string;
  selector: string;
  /** The parsed selector, for the evaluator. */
  ast: Expr;
  /** Pass to `createDetector`; parameters are complete (defaults filled in). */
  spec: DetectorSpec;
  forMs: number;
  severity: Severity;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Absent: no flap detection for this detector. */
  flap?: FlapParams;
}

/** Parses and validates a detector file's text; throws ConfigFileError with every problem. */
export function parseDetectorFile(text: string, file: string): DetectorDefinition[] {
  const source = YamlSource.parse(text, file);
  const parsed = detectorFileSchema.safeParse(source.toJS());
  if (!parsed.success) throw new ConfigFileError(source.zodIssues(parsed.error));
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  const out: DetectorDefinition[] = [];
  parsed.data.detectors.forEach((d, i) => {
    const first = seen.get(d.name);
    if (first !== undefined)
      issues.push(
        source.issue(['detectors', i, 'name'], `duplicate detector name "${d.name}" (first at detectors[${first}])`),
      );
    else seen.set(d.name, i);
    let ast: Expr | undefined;
    try {
      ast = parsePromql(d.selector);
    } catch (err) {
      issues.push(
        source.issue(
          ['detectors', i, 'selector'],
          `could not parse selector: ${err instanceof PromqlError ? err.message : String(err)}`,
        ),
      );
    }
    if (ast && NOT_A_SERIES.has(ast.kind)) {
      issues.push(
        source.issue(
          ['detectors', i, 'selector'],
          `selector must give series (a selector or an expression over one), not a ${ast.kind}`,
        ),
      );
    }
    if (!ast) return;
    out.push({
      file,
      name: d.name,
      selector: d.selector,
      ast,
      spec: { kind: d.detector.kind, params: d.detector.params as Record<string, unknown>, sensitivity: d.sensitivity },
      forMs: d.for,
      severity: d.severity,
      labels: d.labels,
      annotations: d.annotations,
      ...(d.flap ? { flap: d.flap } : {}),
    });
  });
  if (issues.length > 0) throw new ConfigFileError(issues);
  return out;
}

/** Reads and validates a detector file. */
export function loadDetectorFile(file: string): DetectorDefinition[] {
  return parseDetectorFile(readConfigText(file), file);
}
