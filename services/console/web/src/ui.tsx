import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import { ApiError, isUnavailable } from './api';

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

const ENV_OF: Record<string, string> = {
  collector: 'CONSOLE_COLLECTOR_URL',
  tracing: 'CONSOLE_TRACING_URL',
  billing: 'CONSOLE_BILLING_URL',
  anomaly: 'CONSOLE_ANOMALY_URL',
  notifier: 'CONSOLE_NOTIFIER_URL',
};

/** A service this part of the page needs is away: say which and where it is configured. */
export function Down({ service, message }: { service: string; message: string }) {
  return (
    <div className="down" role="alert" data-down={service}>
      <strong>{service} is unavailable</strong> — {message}. The console reads it at{' '}
      {ENV_OF[service] ?? 'its configured URL'}; other pages keep working.
    </div>
  );
}

export function Failure({ error }: { error: Error }) {
  if (error instanceof ApiError && error.service) return <Down service={error.service} message={error.message} />;
  return (
    <div className="down" role="alert">
      <strong>{error instanceof ApiError ? error.code : 'Error'}</strong> — {error.message}
    </div>
  );
}

/** Renders `ok` with the data, or the unavailability of the part. */
export function Part<T>({
  value,
  children,
}: {
  value: T | { unavailable: { service: string; message: string } } | undefined;
  children: (v: T) => ReactNode;
}) {
  if (value === undefined) return null;
  if (isUnavailable(value)) return <Down service={value.unavailable.service} message={value.unavailable.message} />;
  return <>{children(value)}</>;
}

export interface Series {
  label: string;
  points: Array<[number, number]>;
}

const COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/** A uPlot line chart; series are aligned on the union of their timestamps. */
/** `window` fixes the time axis to the page's range (seconds), so a lone point does not stretch it. */
export function Chart({
  title,
  unit,
  series,
  height = 180,
  window: xRange,
}: {
  title: string;
  unit?: string;
  series: Series[];
  height?: number;
  window?: [number, number];
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = el.current;
    if (!host || series.length === 0) return;
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const columns = series.map((s) => {
      const col: Array<number | null> = new Array<number | null>(times.length).fill(null);
      for (const [t, v] of s.points) col[index.get(t) ?? 0] = Number.isFinite(v) ? v : null;
      return col;
    });
    const plot = new uPlot(
      {
        width: Math.max(300, host.clientWidth || 600),
        height,
        legend: { show: series.length <= 10 },
        scales: { x: xRange ? { time: true, range: (): [number, number] => xRange } : { time: true } },
        axes: [{}, { label: unit ?? '', size: 60 }],
        series: [
          {},
          ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false })),
        ],
      },
      [times, ...columns] as uPlot.AlignedData,
      host,
    );
    const onResize = () => plot.setSize({ width: Math.max(300, host.clientWidth || 600), height });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [series, unit, height, xRange?.[0], xRange?.[1]]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {series.length === 0 ? <Empty title="No samples in this window" /> : <div ref={el} />}
    </figure>
  );
}

/** Arrow keys / j k move the selection in a list; Enter opens it. */
export function useListKeys(count: number, selected: number, select: (i: number) => void, open: (i: number) => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName)) return;
      if (count === 0) return;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        select(Math.min(count - 1, selected + 1));
        e.preventDefault();
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        select(Math.max(0, selected - 1));
        e.preventDefault();
      } else if (e.key === 'Enter' && selected >= 0) {
        open(selected);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [count, selected, select, open]);
}
