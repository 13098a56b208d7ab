/**
 * Queries whose answers differ between the reference (Prometheus 2.42, the version Debian ships)
 * and ArcWatch (Prometheus 3.x semantics) by design. Each is excluded by its exact expanded
 * text, with the reason; nothing is excluded by pattern. docs/promql-compliance.md lists the
 * other version differences and why the corpus does not reach them.
 */

/**
 * Prometheus 2.51 (prometheus/prometheus#13725) changed the order of two limits on rate/increase
 * extrapolation towards the start of the window. 2.42 first caps the gap at the counter's
 * extrapolated zero point and then compares it with 1.1 × the average sample interval; later
 * versions first replace a gap beyond that threshold with half an interval and then cap at the
 * zero point. They differ when a window begins before a counter's first sample and the zero
 * point lies between 0.5 and 1.1 intervals before it: at the start of the data and right after
 * instance 10002's restart. Every differing point in these queries was recomputed by hand with
 * both orders: the reference matches the 2.42 order and ArcWatch the 3.x order at every point.
 */
const RATE_ZERO_POINT =
  "rate/increase extrapolation towards a counter's zero point: 2.42 caps at the zero point before the 1.1-interval threshold, 2.51+ (and 3.x) after it";

/**
 * Prometheus 3 accepts any valid UTF-8 string as a label name, so "~invalid" is a valid
 * destination label for label_replace/label_join; 2.42 requires [a-zA-Z_][a-zA-Z0-9_]*. The 3.x
 * promql tests check the failure with an invalid UTF-8 name ("\xff") instead.
 */
const UTF8_LABEL_NAMES = 'UTF-8 label names (Prometheus 3): "~invalid" is a valid label name in 3.x, an error in 2.42';

export const KNOWN_DIFFERENCES: ReadonlyMap<string, string> = new Map<string, string>([
  ['rate(demo_cpu_usage_seconds_total[5m])', RATE_ZERO_POINT],
  ['rate(demo_cpu_usage_seconds_total[15m])', RATE_ZERO_POINT],
  ['rate(demo_cpu_usage_seconds_total[1h])', RATE_ZERO_POINT],
  ['increase(demo_cpu_usage_seconds_total[5m])', RATE_ZERO_POINT],
  ['increase(demo_cpu_usage_seconds_total[15m])', RATE_ZERO_POINT],
  ['increase(demo_cpu_usage_seconds_total[1h])', RATE_ZERO_POINT],
  ['avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[2m:10s])', RATE_ZERO_POINT],
  ['label_replace(demo_num_cpus, "~invalid", "", "src", "(.*)")', UTF8_LABEL_NAMES],
  ['label_join(demo_num_cpus, "~invalid", "-", "instance")', UTF8_LABEL_NAMES],
]);

export function knownDifferenceOf(query: string): string | undefined {
  return KNOWN_DIFFERENCES.get(query);
}
