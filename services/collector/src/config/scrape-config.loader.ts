import { loadYamlConfig, parseYamlConfig } from '@arcwatch/config-files';
import { IGNORED_SCRAPE_KEYS, IGNORED_TOP_KEYS, scrapeFileSchema, type ScrapeFileRaw, type ScrapeSettings } from './scrape-config.schema';

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
        sampleLimit: sc.sample_limit,
        seriesLimit: raw.arcwatch.jobs[sc.job_name]?.series_limit ?? raw.arcwatch.series_limit,
        staticConfigs: sc.static_configs,
        fileSdConfigs: sc.file_sd_configs.map((f) => ({ files: f.files, refreshIntervalMs: f.refresh_interval })),
        relabelConfigs: sc.relabel_configs,
        metricRelabelConfigs: sc.metric_relabel_configs,
      };
    }),
  };
}

