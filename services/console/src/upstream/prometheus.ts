import { z } from 'zod';

/** The parts of Prometheus's query API envelope the console reads. */
export const vectorSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});
/** /api/v1/series: the label sets of the series with samples in the window. */
export const seriesSchema = z.object({
  status: z.literal('success'),
  data: z.array(z.record(z.string(), z.string())),
});
export const matrixSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) }),
    ),
  }),
});
export type VectorSample = z.infer<typeof vectorSchema>['data']['result'][number];
export type MatrixSeries = z.infer<typeof matrixSchema>['data']['result'][number];

/** A label value inside a PromQL string literal: backslashes and quotes escaped. */
export function quoteLabel(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A sample value as a number; NaN and ±Inf become null (JSON cannot carry them). */
export function sampleValue(v: string): number | null {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** A step that keeps a range query to about `points` points, at least 1 s. */
export function stepFor(fromMs: number, toMs: number, points = 240): number {
  return Math.max(1, Math.ceil((toMs - fromMs) / 1000 / points));
}
