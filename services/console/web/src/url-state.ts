/** The console's views; the URL's query string holds the view and every selection, so any view can be linked. */
export const VIEWS = ['fleet', 'node', 'instances', 'requests', 'request', 'costs', 'alerts', 'configuration'] as const;
export type View = (typeof VIEWS)[number];

export const RANGES: Record<string, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};
export const REFRESH: Record<string, number> = { off: 0, '10s': 10_000, '30s': 30_000, '1m': 60_000 };

export type Params = Record<string, string>;

export function parseParams(search: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(search)) if (v !== '') out[k] = v;
  return out;
}

/** Stable order (view first, then alphabetical) so equal states give equal URLs. */
export function toSearch(p: Params): string {
  const keys = Object.keys(p)
    .filter((k) => p[k] !== undefined && p[k] !== '')
    .sort((a, b) => (a === 'view' ? -1 : b === 'view' ? 1 : a.localeCompare(b)));
  const s = new URLSearchParams(keys.map((k) => [k, p[k]] as [string, string])).toString();
  return s === '' ? '' : `?${s}`;
}

export function viewOf(p: Params): View {
  return (VIEWS as readonly string[]).includes(p.view ?? '') ? (p.view as View) : 'fleet';
}

/** The window a view shows: the named range ending now (or at `to`). */
export function windowOf(p: Params, nowMs: number): { from: string; to: string; rangeMs: number } {
  const rangeMs = RANGES[p.range ?? '1h'] ?? RANGES['1h'];
  const toMs = p.to ? Date.parse(p.to) : nowMs;
  const end = Number.isFinite(toMs) ? toMs : nowMs;
  return { from: new Date(end - rangeMs).toISOString(), to: new Date(end).toISOString(), rangeMs };
}

/** Delay before the next refresh: the chosen interval, doubled per consecutive failure up to 5 minutes. */
export function nextDelay(intervalMs: number, failures: number): number {
  if (intervalMs <= 0) return 0;
  return Math.min(intervalMs * 2 ** Math.min(failures, 10), 300_000);
}
