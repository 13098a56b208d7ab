import { lazy, Suspense } from 'react';
import type { Chart as ChartImpl, Series } from './chart';

export type { Series };

/**
 * uPlot and its CSS load with the first chart, not with the app: the fleet page (the landing
 * page, 1,000 GPU cells on the reference fleet) draws none, so its first render does not wait for them.
 */
const Loaded = lazy(() => import('./chart').then((m) => ({ default: m.Chart })));

export function Chart(props: Parameters<typeof ChartImpl>[0]) {
  return (
    <Suspense fallback={<figure className="chart" style={{ height: props.height ?? 180 }} />}>
      <Loaded {...props} />
    </Suspense>
  );
}
