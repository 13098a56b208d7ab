import { alertFingerprint } from '@arcwatch/contracts';
import type { InhibitRuleConfig } from '../config/alertmanager-config';
import { matchesLabels, type LabelSet } from '../matchers/matcher';

/**
 * Inhibition as Alertmanager decides it: an alert is muted by a rule when it matches the rule's
 * target matchers and some firing alert matches the source matchers with the same values for the
 * `equal` labels (a missing label counts as ""). When the candidate also matches the source side,
 * sources that match the target side are skipped, so an alert never inhibits itself (upstream's
 * "two-sided match" rule; Alertmanager 0.25 / 0.28 behaviour, which upstream's tests assert).
 */
export interface InhibitionSource {
  labels: LabelSet;
  /** Resolved alerts never inhibit. */
  resolved: boolean;
}

export interface InhibitionResult {
  muted: boolean;
  /** Fingerprints of the source alerts that inhibit the candidate, one per matching rule. */
  inhibitedBy: string[];
}

const valueOf = (l: LabelSet, n: string): string => (Object.hasOwn(l, n) ? l[n] : '');

export function inhibitedBy(
  rules: readonly InhibitRuleConfig[],
  candidate: LabelSet,
  alerts: Iterable<InhibitionSource>,
): InhibitionResult {
  const pool = [...alerts].filter((a) => !a.resolved);
  const by: string[] = [];
  for (const rule of rules) {
    if (!matchesLabels(rule.targetMatchers, candidate)) continue;
    const twoSided = matchesLabels(rule.sourceMatchers, candidate);
    const source = pool.find(
      (a) =>
        matchesLabels(rule.sourceMatchers, a.labels) &&
        rule.equal.every((n) => valueOf(a.labels, n) === valueOf(candidate, n)) &&
        !(twoSided && matchesLabels(rule.targetMatchers, a.labels)),
    );
    if (source) by.push(alertFingerprint({ ...source.labels }));
  }
  return { muted: by.length > 0, inhibitedBy: [...new Set(by)] };
}
