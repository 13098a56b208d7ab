import { z } from 'zod';
import { parseDuration } from '@arcwatch/config-files';

/**
 * The scrape configuration file: Prometheus's `global` + `scrape_configs` (the subset the
 * collector implements) and ArcWatch's own `arcwatch` block. Keys use Prometheus's spelling so
 * that an existing prometheus.yml works unchanged; keys Prometheus has but the collector does not
 * implement are accepted and reported as warnings (see IGNORED_KEYS), anything else is an error.
 */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: "${text}" (expected e.g. 15s, 1m30s, 500ms)` });
    return z.NEVER;
  }
  return ms;
});

const labelNameSchema = z.string().regex(LABEL_NAME, 'not a valid label name');
const labelSetSchema = z.record(labelNameSchema, z.string());

export const relabelActionSchema = z.enum([
  'replace',
  'keep',
  'drop',
  'labeldrop',
  'labelkeep',
  'labelmap',
  'hashmod',
  'lowercase',
  'uppercase',
  'keepequal',
  'dropequal',
]);

export const relabelConfigSchema = z
  .object({
    source_labels: z.array(labelNameSchema).default([]),
    separator: z.string().default(';'),
    regex: z.string().default('(.*)'),
    modulus: z.number().int().positive().optional(),
    target_label: z.string().optional(),
    replacement: z.string().default('$1'),
    action: relabelActionSchema.default('replace'),
  })
  .strict()
  .superRefine((c, ctx) => {
    try {
      new RegExp(`^(?:${c.regex})$`);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['regex'],
        message: `invalid regular expression: ${(err as Error).message}`,
      });
    }
    const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];
    if (needsTarget.includes(c.action) && !c.target_label) {
      ctx.addIssue({
        code: 'custom',
        path: ['target_label'],
        message: `relabel action ${c.action} requires target_label`,
      });
    }
    if (c.action === 'hashmod' && c.modulus === undefined) {
      ctx.addIssue({ code: 'custom', path: ['modulus'], message: 'relabel action hashmod requires modulus' });
    }
    if ((c.action === 'labeldrop' || c.action === 'labelkeep') && c.source_labels.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['source_labels'],
        message: `relabel action ${c.action} takes no source_labels`,
      });
    }
  });

export const staticConfigSchema = z
  .object({
    targets: z.array(z.string().min(1)).default([]),
    labels: labelSetSchema.default({}),
  })
  .strict();

export const fileSdConfigSchema = z
  .object({
    files: z.array(z.string().min(1)).min(1),
    refresh_interval: durationSchema.prefault('5m'),
  })
  .strict();

/** Keys of a Prometheus scrape config that the collector accepts but does not act on. */
export const IGNORED_SCRAPE_KEYS = [
  'scrape_native_histograms',
  'scrape_classic_histograms',
  'scrape_protocols',
  'enable_compression',
  'keep_dropped_targets',
  'track_timestamps_staleness',
  'native_histogram_bucket_limit',
  'fallback_scrape_protocol',
  'metric_name_validation_scheme',
  'follow_redirects',
  'enable_http2',
  'proxy_url',
] as const;

/** Prometheus's body_size_limit: bytes with a base-2 unit (`10MB` = 10 MiB, as in Prometheus), or 0 for none. */
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  KIB: 1024,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
};

export const byteSizeSchema = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(v.trim());
  const unit = m ? (m[2] === '' ? 'B' : m[2]!.toUpperCase()) : '';
  if (!m || SIZE_UNITS[unit] === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a size: "${v}" (expected e.g. 10MB, 512KiB, 0)` });
    return z.NEVER;
  }
  return Number(m[1]) * SIZE_UNITS[unit]!;
});

const limitSchema = z.number().int().min(0);

/** tls_config: PEM files (or inline PEM), the name to verify, and the escape hatch for self-signed targets. */
export const tlsConfigSchema = z
  .object({
    ca_file: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    server_name: z.string().min(1).optional(),
    insecure_skip_verify: z.boolean().default(false),
    min_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).optional(),
    max_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [a, b] of [
      ['ca', 'ca_file'],
      ['cert', 'cert_file'],
      ['key', 'key_file'],
    ] as const) {
      if (t[a] !== undefined && t[b] !== undefined)
        ctx.addIssue({ code: 'custom', path: [a], message: `at most one of ${a} and ${b} must be configured` });
    }
    const hasCert = t.cert !== undefined || t.cert_file !== undefined;
    const hasKey = t.key !== undefined || t.key_file !== undefined;
    if (hasCert !== hasKey)
      ctx.addIssue({
        code: 'custom',
        path: [hasCert ? 'key_file' : 'cert_file'],
        message: 'client certificate and key must be configured together',
      });
  });

export const authorizationSchema = z
  .object({
    type: z.string().min(1).default('Bearer'),
    credentials: z.string().optional(),
    credentials_file: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.credentials !== undefined && a.credentials_file !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['credentials'],
        message: 'at most one of credentials and credentials_file must be configured',
      });
    if (a.type.toLowerCase() === 'basic')
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: 'authorization type cannot be set to "basic", use "basic_auth" instead',
      });
  });

export const basicAuthSchema = z
  .object({
    username: z.string().default(''),
    username_file: z.string().min(1).optional(),
    password: z.string().optional(),
    password_file: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.password !== undefined && b.password_file !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'at most one of password and password_file must be configured',
      });
    if (b.username !== '' && b.username_file !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: 'at most one of username and username_file must be configured',
      });
  });

export const IGNORED_TOP_KEYS = [
  'alerting',
  'rule_files',
  'remote_write',
  'remote_read',
  'storage',
  'tracing',
  'scrape_config_files',
  'runtime',
  'otlp',
] as const;

export const scrapeConfigSchema = z
  .object({
    job_name: z.string().min(1),
    scrape_interval: durationSchema.optional(),
    scrape_timeout: durationSchema.optional(),
    metrics_path: z.string().startsWith('/').default('/metrics'),
    scheme: z.enum(['http', 'https']).default('http'),
    params: z.record(z.string(), z.array(z.string())).default({}),
    honor_labels: z.boolean().default(false),
    honor_timestamps: z.boolean().default(true),
    sample_limit: limitSchema.optional(),
    label_limit: limitSchema.optional(),
    label_name_length_limit: limitSchema.optional(),
    label_value_length_limit: limitSchema.optional(),
    target_limit: limitSchema.optional(),
    body_size_limit: byteSizeSchema.optional(),
    tls_config: tlsConfigSchema.optional(),
    authorization: authorizationSchema.optional(),
    basic_auth: basicAuthSchema.optional(),
    static_configs: z.array(staticConfigSchema).default([]),
    file_sd_configs: z.array(fileSdConfigSchema).default([]),
    relabel_configs: z.array(relabelConfigSchema).default([]),
    metric_relabel_configs: z.array(relabelConfigSchema).default([]),
    ...Object.fromEntries(IGNORED_SCRAPE_KEYS.map((k) => [k, z.unknown().optional()])),
  })
  .strict();

export const globalConfigSchema = z
  .object({
    scrape_interval: durationSchema.prefault('1m'),
    scrape_timeout: durationSchema.prefault('10s'),
    evaluation_interval: durationSchema.optional(),
    // The limits a scrape config leaves out fall back to these, as in Prometheus.
    sample_limit: limitSchema.default(0),
    label_limit: limitSchema.default(0),
    label_name_length_limit: limitSchema.default(0),
    label_value_length_limit: limitSchema.default(0),
    target_limit: limitSchema.default(0),
    body_size_limit: byteSizeSchema.default(0),
    ...Object.fromEntries(
      [
        'external_labels',
        'rule_query_offset',
        'query_log_file',
        'scrape_failure_log_file',
        'keep_dropped_targets',
        'scrape_protocols',
        'metric_name_validation_scheme',
      ].map((k) => [k, z.unknown().optional()]),
    ),
  })
  .strict();

export const arcwatchBlockSchema = z
  .object({
    /** Cluster name: the <cluster> token of the subjects this collector publishes on. */
    cluster: z.string().min(1).default('default'),
    /** Cardinality guard: most distinct series one target may have per scrape; 0 = no limit. */
    series_limit: z.number().int().min(0).default(0),
    /** Per-job overrides of the guard. */
    jobs: z.record(z.string(), z.object({ series_limit: z.number().int().min(0) }).strict()).default({}),
  })
  .strict();

export const scrapeFileSchema = z
  .object({
    global: globalConfigSchema.default(globalConfigSchema.parse({})),
    scrape_configs: z.array(scrapeConfigSchema).default([]),
    arcwatch: arcwatchBlockSchema.default(arcwatchBlockSchema.parse({})),
    ...Object.fromEntries(IGNORED_TOP_KEYS.map((k) => [k, z.unknown().optional()])),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.scrape_configs.forEach((sc, i) => {
      if (seen.has(sc.job_name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['scrape_configs', i, 'job_name'],
          message: `duplicate job_name "${sc.job_name}" (first at scrape_configs.${seen.get(sc.job_name)})`,
        });
      }
      seen.set(sc.job_name, i);
      if (sc.authorization !== undefined && sc.basic_auth !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['scrape_configs', i, 'authorization'],
          message: 'at most one of basic_auth and authorization must be configured',
        });
      }
      const interval = sc.scrape_interval ?? file.global.scrape_interval;
      const timeout = sc.scrape_timeout ?? Math.min(file.global.scrape_timeout, interval);
      if (timeout > interval) {
        ctx.addIssue({
          code: 'custom',
          path: ['scrape_configs', i, 'scrape_timeout'],
          message: 'scrape_timeout is greater than scrape_interval',
        });
      }
    });
  });

export type RelabelConfig = z.infer<typeof relabelConfigSchema>;
export type ScrapeConfigRaw = z.infer<typeof scrapeConfigSchema>;
export type ScrapeFileRaw = z.infer<typeof scrapeFileSchema>;

/** The file after defaults are resolved: what the scrape manager runs. */
export interface ScrapeJob {
  jobName: string;
  intervalMs: number;
  timeoutMs: number;
  metricsPath: string;
  scheme: 'http' | 'https';
  params: Record<string, string[]>;
  honorLabels: boolean;
  honorTimestamps: boolean;
  sampleLimit: number;
  seriesLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  /** Most targets the job may have after relabelling; past it every target of the job fails (0 = none). */
  targetLimit: number;
  /** Most bytes of an uncompressed scrape body (0 = none). */
  bodySizeLimit: number;
  http: ScrapeHttpConfig;
  staticConfigs: Array<{ targets: string[]; labels: Record<string, string> }>;
  fileSdConfigs: Array<{ files: string[]; refreshIntervalMs: number }>;
  relabelConfigs: RelabelConfig[];
  metricRelabelConfigs: RelabelConfig[];
}

/** How a target is reached: TLS material and credentials, read from their files at every scrape (rotation works). */
export interface ScrapeHttpConfig {
  tls?: {
    ca?: { file?: string; pem?: string };
    cert?: { file?: string; pem?: string };
    key?: { file?: string; pem?: string };
    serverName?: string;
    insecureSkipVerify: boolean;
    minVersion?: TlsVersion;
    maxVersion?: TlsVersion;
  };
  authorization?: { type: string; credentials?: string; credentialsFile?: string };
  basicAuth?: { username: string; usernameFile?: string; password?: string; passwordFile?: string };
}

export type TlsVersion = 'TLS10' | 'TLS11' | 'TLS12' | 'TLS13';

export interface ScrapeSettings {
  cluster: string;
  /** arcwatch.series_limit and its per-job overrides: the guard of scrapes, and of pushes by their job label. */
  seriesLimit?: number;
  jobSeriesLimits?: Record<string, number>;
  jobs: ScrapeJob[];
  warnings: string[];
}

/** The cardinality guard for a job (scraped or pushed); 0 = none. */
export function seriesLimitFor(settings: Pick<ScrapeSettings, 'seriesLimit' | 'jobSeriesLimits'>, job: string): number {
  return settings.jobSeriesLimits?.[job] ?? settings.seriesLimit ?? 0;
}
