import { z } from 'zod';
import { accessClientEnv, accessEnv } from '@arcwatch/access';
import {
  bodyLimitEnv,
  commonEnv,
  dbSchemaEnv,
  env,
  httpEnv,
  parseEnv,
  type ConfigOf,
  type EnvSpec,
} from '@arcwatch/runtime';

/**
 * The anomaly service's environment, each variable named once with its schema; parsed once at
 * boot. Rule files are Prometheus rule-group YAML (ANOMALY_RULE_FILES, comma-separated).
 */
export const anomalyEnv = {
  ...commonEnv,
  ...httpEnv('ANOMALY', 8084),
  ...dbSchemaEnv('ANOMALY', 'anomaly'),
  ...accessEnv,
  /**
   * The token sent to the collector (ANOMALY_HISTORY_URL, viewer) and to the Alertmanager API
   * alerts go to (ANOMALY_ALERTMANAGER_URL, operator); AUTH_BOOTSTRAP_TOKEN when unset.
   */
  ...accessClientEnv,
  ...bodyLimitEnv('ANOMALY', 1024 * 1024),
  ruleFiles: ['ANOMALY_RULE_FILES', env.list],
  /** Detector files (libs/detectors' format), comma-separated. */
  detectorFiles: ['ANOMALY_DETECTOR_FILES', env.list],
  /** How often detectors take the next value of each series they watch. */
  detectorIntervalMs: ['ANOMALY_DETECTOR_INTERVAL_MS', z.coerce.number().int().min(100).default(15_000)],
  /** Group interval when a group gives none (Prometheus's global evaluation_interval). */
  evaluationIntervalMs: ['ANOMALY_EVALUATION_INTERVAL_MS', z.coerce.number().int().min(100).default(15_000)],
  /** A group is evaluated this long after the first sample that arrived since its last run. */
  debounceMs: ['ANOMALY_DEBOUNCE_MS', z.coerce.number().int().min(0).default(25)],
  /** How much of the live stream is kept in memory for rule evaluation. */
  windowMs: [
    'ANOMALY_WINDOW_MS',
    z.coerce
      .number()
      .int()
      .min(60_000)
      .default(2 * 3_600_000),
  ],
  /** Prometheus-compatible query API (the collector's) that serves ranges older than the window. */
  historyUrl: ['ANOMALY_HISTORY_URL', env.optionalText],
  externalUrl: ['ANOMALY_EXTERNAL_URL', z.string().default('http://127.0.0.1:8084')],
  /** external_labels as `a=b,c=d`. */
  externalLabels: [
    'ANOMALY_EXTERNAL_LABELS',
    z.preprocess(
      (v) =>
        Object.fromEntries(
          (typeof v === 'string' ? v.split(',') : [])
            .map((p) => p.trim())
            .filter(Boolean)
            .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
        ),
      z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()),
    ),
  ],
  /** An Alertmanager to POST alerts to (`/api/v2/alerts`), as Prometheus does. */
  alertmanagerUrl: ['ANOMALY_ALERTMANAGER_URL', env.optionalText],
  /** How often rule files are checked for changes (0: never). */
  reloadCheckMs: ['ANOMALY_RELOAD_CHECK_MS', z.coerce.number().int().min(0).default(5_000)],
  /** ALERTS / ALERTS_FOR_STATE are published as metrics batches with this cluster and node. */
  writeBackCluster: ['ANOMALY_WRITE_BACK_CLUSTER', z.string().min(1).default('arcwatch')],
  writeBackNode: ['ANOMALY_WRITE_BACK_NODE', z.string().min(1).default('anomaly')],
} as const satisfies EnvSpec;

export type AnomalyConfig = ConfigOf<typeof anomalyEnv>;

export const ANOMALY_CONFIG = Symbol('ANOMALY_CONFIG');

export function loadAnomalyConfig(source: Record<string, string | undefined> = process.env): AnomalyConfig {
  return parseEnv(anomalyEnv, source);
}
