/**
 * NAB scoring as ../shared/fixtures/nab/SCORING.md describes it: anomaly windows weighted by a
 * scaled sigmoid, one threshold per profile chosen by an exhaustive sweep over the whole corpus,
 * normalised so that never alerting is 0 and a perfect detector is 100. Pure: callers hand in rows.
 */

export interface NabProfile {
  name: NabProfileName;
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export const NAB_PROFILE_NAMES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
export type NabProfileName = (typeof NAB_PROFILE_NAMES)[number];

/** config/profiles.json (tnWeight has no effect on the score and is left out). */
export const NAB_PROFILES: Record<NabProfileName, NabProfile> = {
  standard: { name: 'standard', tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { name: 'reward_low_FP_rate', tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { name: 'reward_low_FN_rate', tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

/** One file as the scorer sees it: a score per row and its windows as inclusive row ranges. */
export interface NabScoredFile {
  name: string;
  scores: ArrayLike<number>;
  /** [first row, last row] of each window, sorted, not overlapping. */
  windows: ReadonlyArray<readonly [number, number]>;
}

export interface NabProfileScore {
  profile: NabProfileName;
  /** The chosen threshold; 1.1 when the best is to detect nothing. */
  threshold: number;
  raw: number;
  /** 100·(raw − null)/(perfect − null). */
  score: number;
}

/** Rows before P are never scored: P = min(floor(0.15·N), 750). */
export function probationRows(n: number): number {
  return Math.min(Math.floor(0.15 * n), 750);
}

/** 2/(1+e^(5y)) − 1, clamped to −1 past y = 3. */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

const SIGMOID_AT_MINUS_ONE = scaledSigmoid(-1);

/**
 * What detecting each scorable row would be worth under `profile`. `windowOf[i]` is the index of
 * the file's window holding row i, or −1.
 */
export function rowValues(
  n: number,
  windows: NabScoredFile['windows'],
  profile: NabProfile,
): { values: Float64Array; windowOf: Int32Array } {
  const values = new Float64Array(n);
  const windowOf = new Int32Array(n).fill(-1);
  let next = 0;
  let previous: readonly [number, number] | undefined;
  for (let i = 0; i < n; i++) {
    while (next < windows.length && windows[next][1] < i) previous = windows[next++];
    const w = next < windows.length && windows[next][0] <= i ? windows[next] : undefined;
    if (w) {
      const width = w[1] - w[0] + 1;
      windowOf[i] = next;
      values[i] = (profile.tpWeight * scaledSigmoid(-(w[1] - i + 1) / width)) / SIGMOID_AT_MINUS_ONE;
    } else if (previous) {
      const width = previous[1] - previous[0] + 1;
      values[i] = profile.fpWeight * scaledSigmoid((i - previous[1]) / (width - 1));
    } else {
      values[i] = -profile.fpWeight;
    }
  }
  return { values, windowOf };
}

/** Scores a corpus under one profile, choosing the threshold that maximises the raw score. */
export function scoreCorpus(files: readonly NabScoredFile[], profile: NabProfile): NabProfileScore {
  let rows = 0;
  for (const f of files) rows += f.scores.length - probationRows(f.scores.length);
  const score = new Float64Array(rows);
  const value = new Float64Array(rows);
  const window = new Int32Array(rows);
  let windowCount = 0;
  let k = 0;
  for (const f of files) {
    const n = f.scores.length;
    const { values, windowOf } = rowValues(n, f.windows, profile);
    for (let i = probationRows(n); i < n; i++) {
      const s = f.scores[i];
      if (!(s >= 0 && s <= 1)) throw new RangeError(`${f.name}: score ${s} at row ${i} is outside [0, 1]`);
      score[k] = s;
      value[k] = values[i];
      window[k] = windowOf[i] < 0 ? -1 : windowCount + windowOf[i];
      k++;
    }
    windowCount += f.windows.length;
  }
  // Highest score first; equal scores form one candidate threshold, so their order is irrelevant.
  const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  const best = new Float64Array(windowCount).fill(-profile.fnWeight);
  const nullRaw = -profile.fnWeight * windowCount;
  let raw = nullRaw;
  let bestRaw = nullRaw;
  let bestThreshold = 1.1;
  for (let j = 0; j < rows; j++) {
    const r = order[j];
    const w = window[r];
    if (w < 0) raw += value[r];
    else if (value[r] > best[w]) {
      raw += value[r] - best[w];
      best[w] = value[r];
    }
    const groupEnds = j === rows - 1 || score[order[j + 1]] !== score[r];
    // Strictly greater: on a tie the higher threshold, met first, stays.
    if (groupEnds && raw > bestRaw) {
      bestRaw = raw;
      bestThreshold = score[r];
    }
  }
  const perfect = profile.tpWeight * windowCount;
  const normalised = windowCount === 0 ? 0 : (100 * (bestRaw - nullRaw)) / (perfect - nullRaw);
  return { profile: profile.name, threshold: bestThreshold, raw: bestRaw, score: normalised };
}

/** The raw score at a fixed threshold (to reproduce a committed threshold rather than sweep). */
export function rawAtThreshold(files: readonly NabScoredFile[], profile: NabProfile, threshold: number): number {
  let raw = 0;
  for (const f of files) {
    const n = f.scores.length;
    const { values, windowOf } = rowValues(n, f.windows, profile);
    const best = new Array<number>(f.windows.length).fill(-profile.fnWeight);
    for (let i = probationRows(n); i < n; i++) {
      if (!(f.scores[i] >= threshold)) continue;
      if (windowOf[i] < 0) raw += values[i];
      else best[windowOf[i]] = Math.max(best[windowOf[i]], values[i]);
    }
    for (const b of best) raw += b;
  }
  return raw;
}

export function scoreAllProfiles(files: readonly NabScoredFile[]): NabProfileScore[] {
  return NAB_PROFILE_NAMES.map((p) => scoreCorpus(files, NAB_PROFILES[p]));
}
