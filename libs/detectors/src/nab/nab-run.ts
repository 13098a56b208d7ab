import { createDetector, type DetectorSpec } from '../registry';
import { NAB_ONSET_MARGIN, NAB_ONSET_ROWS } from './nab-detectors';
import { scoreAllProfiles, type NabProfileScore, type NabScoredFile } from './nab-scorer';

/** A series to run a detector over: times in ms and values, in file order. */
export interface NabSeries {
  name: string;
  timesMs: ArrayLike<number>;
  values: ArrayLike<number>;
  windows: Array<[number, number]>;
}

/**
 * Runs a fresh detector over one series and returns its per-row scores as NAB sees them. An alert
 * is one event however long the anomaly lasts (the state machine folds a continuing finding into
 * one alert), so a row keeps its score only when it rises above every score of the `onsetRows`
 * rows before it, by `onsetMargin` when those rows scored anything at all; a sustained anomaly
 * counts at its onset and again only when it gets clearly worse. Causal: row i depends on rows ≤ i.
 */
export function nabScores(
  spec: DetectorSpec,
  series: NabSeries,
  onsetRows = NAB_ONSET_ROWS,
  onsetMargin = NAB_ONSET_MARGIN,
): Float64Array {
  const detector = createDetector(spec);
  const n = series.values.length;
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) raw[i] = detector.update(series.timesMs[i], series.values[i]).score;
  if (onsetRows <= 0) return raw;
  const out = new Float64Array(n);
  // Monotone deque of the trailing maximum: O(n) for any window.
  const dq: number[] = [];
  for (let i = 0; i < n; i++) {
    while (dq.length > 0 && dq[0] < i - onsetRows) dq.shift();
    const prevMax = dq.length > 0 ? raw[dq[0]] : 0;
    // The first finding after a quiet stretch counts at any height; within an episode only a clear rise.
    out[i] = raw[i] > (prevMax > 0 ? prevMax + onsetMargin : 0) ? raw[i] : 0;
    while (dq.length > 0 && raw[dq[dq.length - 1]] <= raw[i]) dq.pop();
    dq.push(i);
  }
  return out;
}

export function scoreDetectorOnCorpus(
  spec: DetectorSpec,
  corpus: readonly NabSeries[],
  onsetRows = NAB_ONSET_ROWS,
  onsetMargin = NAB_ONSET_MARGIN,
): NabProfileScore[] {
  const files: NabScoredFile[] = corpus.map((s) => ({
    name: s.name,
    scores: nabScores(spec, s, onsetRows, onsetMargin),
    windows: s.windows,
  }));
  return scoreAllProfiles(files);
}
