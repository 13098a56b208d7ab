import { z } from 'zod';
import { durationMs, loadYamlConfig, parseYamlConfig } from '@arcwatch/config-files';
import { SEVERITIES, type Severity } from '@arcwatch/contracts';
import { MatcherError, sortMatchers, type Matcher } from '../matchers/matcher';
import { parseMatchers } from '../matchers/parse';
import { AmLoadError, type Decoder, type Path, type YNode } from './yaml-decoder';

/**
 * ArcWatch's additions to an Alertmanager file, kept out of Alertmanager's own keys so the same
 * file still loads in Alertmanager: a top-level `arcwatch:` block (or a separate file with the
 * same content) holding the P0–P3 severity mapping and escalation policies.
 *
 * arcwatch:
 *   severity:
 *     label: severity                 # the label that carries the severity
 *     map: { critical: P0, error: P1, warning: P2, info: P3 }
 *     default: P3
 *   escalation_policies:
 *     - name: gpu-oncall
 *       matchers: ['severity=~"P0|critical"']
 *       ack_timeout: 30m              # an acknowledgement holds this long, then paging re-arms
 *       repeat: 1                     # run the levels again this many times when nobody acks
 *       levels:
 *         - { delay: 0s, targets: [pagerduty-primary] }
 *         - { delay: 10m, targets: [pagerduty-secondary, slack-sre] }
 */
const matcherLine = z.string().superRefine((s, ctx) => {
  try {
    parseMatchers(s, 'fallback');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof MatcherError ? e.message : String(e) });
  }
});

const severityEnum = z.enum(SEVERITIES);

export const escalationLevelSchema = z.strictObject({
  delay: durationMs,
  targets: z.array(z.string().min(1)).min(1),
});

export const escalationPolicySchema = z.strictObject({
  name: z.string().min(1),
  matchers: z.array(matcherLine).default([]),
  ack_timeout: durationMs.optional(),
  repeat: z.number().int().min(0).max(100).default(0),
  levels: z.array(escalationLevelSchema).min(1),
});

export const arcwatchBlockSchema = z.strictObject({
  severity: z
    .strictObject({
      label: z.string().min(1).default('severity'),
      map: z.record(z.string(), severityEnum).default({}),
      default: severityEnum.default('P3'),
    })
    .default({ label: 'severity', map: {}, default: 'P3' }),
  escalation_policies: z.array(escalationPolicySchema).default([]),
});

export interface EscalationLevel {
  delayMs: number;
  targets: string[];
}

export interface EscalationPolicy {
  name: string;
  matchers: Matcher[];
  ackTimeoutMs: number | undefined;
  repeat: number;
  levels: EscalationLevel[];
}

export interface ArcwatchConfig {
  severity: { label: string; map: Record<string, Severity>; default: Severity };
  escalationPolicies: EscalationPolicy[];
}

export function toArcwatchConfig(raw: z.infer<typeof arcwatchBlockSchema>): ArcwatchConfig {
  return {
    severity: { label: raw.severity.label, map: raw.severity.map, default: raw.severity.default },
    escalationPolicies: raw.escalation_policies.map((p) => ({
      name: p.name,
      matchers: sortMatchers(p.matchers.flatMap((m) => parseMatchers(m, 'fallback'))),
      ackTimeoutMs: p.ack_timeout,
      repeat: p.repeat,
      levels: p.levels.map((l) => ({ delayMs: l.delay, targets: l.targets })),
    })),
  };
}

/** The `arcwatch:` block inside an Alertmanager file. */
export function decodeArcwatchBlock(d: Decoder, node: YNode, path: Path): ArcwatchConfig {
  const parsed = arcwatchBlockSchema.safeParse(d.opaque(node) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const sub = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const at: Path = issue.code === 'unrecognized_keys' ? [...path, ...sub, issue.keys[0]] : [...path, ...sub];
    throw new AmLoadError(issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys[0]}` : issue.message, at);
  }
  return toArcwatchConfig(parsed.data);
}

/** A separate ArcWatch file (same content as the block, at the top level). */
export function loadArcwatchFile(file: string): ArcwatchConfig {
  return toArcwatchConfig(loadYamlConfig(file, arcwatchBlockSchema).value);
}

export function parseArcwatchText(text: string, file: string): ArcwatchConfig {
  return toArcwatchConfig(parseYamlConfig(text, file, arcwatchBlockSchema).value);
}

/** The P0–P3 severity of an alert's labels: the label's value if it is one, else the mapping, else the default. */
export function severityOf(
  labels: Readonly<Record<string, string>>,
  cfg: ArcwatchConfig['severity'] | undefined,
): Severity {
  const label = cfg?.label ?? 'severity';
  const v = labels[label];
  if (v !== undefined && (SEVERITIES as readonly string[]).includes(v)) return v as Severity;
  if (v !== undefined && cfg?.map[v] !== undefined) return cfg.map[v];
  const builtin: Record<string, Severity> = {
    critical: 'P0',
    page: 'P0',
    error: 'P1',
    high: 'P1',
    warning: 'P2',
    warn: 'P2',
    info: 'P3',
    low: 'P3',
  };
  if (v !== undefined && builtin[v.toLowerCase()] !== undefined) return builtin[v.toLowerCase()];
  return cfg?.default ?? 'P3';
}
