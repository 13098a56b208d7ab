import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Empty } from './ui';

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
