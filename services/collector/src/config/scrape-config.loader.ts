import { loadYamlConfig, parseYamlConfig } from '@arcwatch/config-files';
import {
  IGNORED_SCRAPE_KEYS,
  IGNORED_TOP_KEYS,
  scrapeFileSchema,
  type ScrapeConfigRaw,
  type ScrapeFileRaw,
  type ScrapeHttpConfig,
  type ScrapeSettings,
} from './scrape-config.schema';

export { ConfigFileError, type ConfigIssue } from '@arcwatch/config-files';

/** The validated scrape settings (ScrapeSettings), read before anything connects. */
export const SCRAPE_SETTINGS = Symbol('SCRAPE_SETTINGS');

function collectWarnings(raw: ScrapeFileRaw): string[] {
  const warnings: string[] = [];
  const top = raw as Record<string, unknown>;
  for (const k of IGNORED_TOP_KEYS) if (top[k] !== undefined) warnings.push(`${k}: not used by the collector, ignored`);
  raw.scrape_configs.forEach((sc, i) => {
    const rec = sc as Record<string, unknown>;
    for (const k of IGNORED_SCRAPE_KEYS) {
      if (rec[k] !== undefined) warnings.push(`scrape_configs[${i}].${k}: not implemented by the collector, ignored`);
    }
  });
  return warnings;
}

/** Validates a scrape configuration text; `file` only names the source in errors. */
export function parseScrapeConfig(text: string, file: string): ScrapeSettings {
  return settingsOf(parseYamlConfig(text, file, scrapeFileSchema).value);
}

export function loadScrapeConfigFile(file: string): ScrapeSettings {
  return settingsOf(loadYamlConfig(file, scrapeFileSchema).value);
}

function settingsOf(raw: ScrapeFileRaw): ScrapeSettings {
  return {
    cluster: raw.arcwatch.cluster,
    seriesLimit: raw.arcwatch.series_limit,
    jobSeriesLimits: Object.fromEntries(Object.entries(raw.arcwatch.jobs).map(([job, j]) => [job, j.series_limit])),
    warnings: collectWarnings(raw),
    jobs: raw.scrape_configs.map((sc) => {
      const intervalMs = sc.scrape_interval ?? raw.global.scrape_interval;
      return {
        jobName: sc.job_name,
        intervalMs,
        timeoutMs: sc.scrape_timeout ?? Math.min(raw.global.scrape_timeout, intervalMs),
        metricsPath: sc.metrics_path,
        scheme: sc.scheme,
        params: sc.params,
        honorLabels: sc.honor_labels,
        honorTimestamps: sc.honor_timestamps,
        sampleLimit: sc.sample_limit ?? raw.global.sample_limit,
        seriesLimit: raw.arcwatch.jobs[sc.job_name]?.series_limit ?? raw.arcwatch.series_limit,
        labelLimit: sc.label_limit ?? raw.global.label_limit,
        labelNameLengthLimit: sc.label_name_length_limit ?? raw.global.label_name_length_limit,
        labelValueLengthLimit: sc.label_value_length_limit ?? raw.global.label_value_length_limit,
        targetLimit: sc.target_limit ?? raw.global.target_limit,
        bodySizeLimit: sc.body_size_limit ?? raw.global.body_size_limit,
        http: httpConfigOf(sc),
        staticConfigs: sc.static_configs,
        fileSdConfigs: sc.file_sd_configs.map((f) => ({ files: f.files, refreshIntervalMs: f.refresh_interval })),
        relabelConfigs: sc.relabel_configs,
        metricRelabelConfigs: sc.metric_relabel_configs,
      };
    }),
  };
}

function pemSource(file: string | undefined, pem: string | undefined): { file?: string; pem?: string } | undefined {
  if (file !== undefined) return { file };
  return pem !== undefined ? { pem } : undefined;
}

function httpConfigOf(sc: ScrapeConfigRaw): ScrapeHttpConfig {
  const out: ScrapeHttpConfig = {};
  const t = sc.tls_config;
  if (t) {
    const ca = pemSource(t.ca_file, t.ca);
    const cert = pemSource(t.cert_file, t.cert);
    const key = pemSource(t.key_file, t.key);
    out.tls = {
      insecureSkipVerify: t.insecure_skip_verify,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(t.server_name !== undefined ? { serverName: t.server_name } : {}),
      ...(t.min_version !== undefined ? { minVersion: t.min_version } : {}),
      ...(t.max_version !== undefined ? { maxVersion: t.max_version } : {}),
    };
  }
  const a = sc.authorization;
  if (a) {
    out.authorization = {
      type: a.type,
      ...(a.credentials !== undefined ? { credentials: a.credentials } : {}),
      ...(a.credentials_file !== undefined ? { credentialsFile: a.credentials_file } : {}),
    };
  }
  const b = sc.basic_auth;
  if (b) {
    out.basicAuth = {
      username: b.username,
      ...(b.username_file !== undefined ? { usernameFile: b.username_file } : {}),
      ...(b.password !== undefined ? { password: b.password } : {}),
      ...(b.password_file !== undefined ? { passwordFile: b.password_file } : {}),
    };
  }
  return out;
}
