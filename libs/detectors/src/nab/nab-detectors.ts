import type { DetectorSpec } from '../registry';

/**
 * The detectors `arcwatch nab score` knows, by name. Each is a detector kind with the package's
 * default parameters: the same settings for every file, as a deployment would run them.
 */
export const NAB_DETECTORS: Record<string, DetectorSpec> = {
  robust: { kind: 'robust' },
  seasonal: { kind: 'seasonal' },
  cusum: { kind: 'cusum' },
  ensemble: { kind: 'ensemble' },
};

/** Rows after a row during which a lower score does not count again (see `nabScores`). */
export const NAB_ONSET_ROWS = 100;

/** How much a score must rise over the preceding `NAB_ONSET_ROWS` rows' maximum to count again. */
export const NAB_ONSET_MARGIN = 0.05;
