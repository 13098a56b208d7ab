/** What both sides of the crossing benchmark share: the rule, the GPUs that take turns, percentiles. */

/** One rule group with the benchmark's rule (`gpu_temp > 90`, no `for`) at the given interval. */
export function ruleGroup(interval: string): string {
  return [
    'groups:',
    '  - name: bench',
    `    interval: ${interval}`,
    '    rules:',
    '      - alert: GpuHot',
    '        expr: gpu_temp > 90',
    '        labels: { severity: P2, team: bench }',
    '',
  ].join('\n');
}

/** Crossing i uses GPU i mod 16, so one alert's resolution is long done when its label set returns. */
export const CROSSING_GPUS = Array.from({ length: 16 }, (_, i) => String(i));

/** Nearest-rank percentile of an ascending list. */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarise(latencies: readonly number[]): LatencySummary {
  const s = [...latencies].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1] };
}
