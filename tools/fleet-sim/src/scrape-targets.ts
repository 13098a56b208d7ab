/**
 * How a scraper finds the simulated fleet: a Prometheus file_sd JSON (one target group per node
 * and exporter) and a collector scrape configuration with one job per exporter that reads it.
 * The exporter rides in a `__meta_` label, so each job keeps its own targets by relabelling and
 * the label disappears after relabelling, as it would in Prometheus.
 */
import { stringify } from 'yaml';
import type { NodeSpec } from './topology';

export const EXPORTER_META_LABEL = '__meta_fleetsim_exporter';
export const JOBS = { dcgm: 'dcgm-exporter', vllm: 'vllm' } as const;

export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

export function fileSdGroups(nodes: readonly NodeSpec[], cluster: string): FileSdGroup[] {
  return nodes.flatMap((n) => [
    { targets: [n.dcgmInstance], labels: { [EXPORTER_META_LABEL]: JOBS.dcgm, node: n.hostname, cluster } },
    { targets: [n.vllmInstance], labels: { [EXPORTER_META_LABEL]: JOBS.vllm, node: n.hostname, cluster } },
  ]);
}

export interface ScrapeConfigOptions {
  cluster: string;
  /** The file_sd JSON the jobs read; without it the targets are written inline. */
  sdFile?: string;
  scrapeInterval: string;
}

export function scrapeConfigYaml(nodes: readonly NodeSpec[], opts: ScrapeConfigOptions): string {
  const groups = fileSdGroups(nodes, opts.cluster);
  const job = (jobName: string) => {
    const base = { job_name: jobName, scrape_interval: opts.scrapeInterval, metrics_path: '/metrics' };
    if (opts.sdFile) {
      return {
        ...base,
        file_sd_configs: [{ files: [opts.sdFile], refresh_interval: '30s' }],
        relabel_configs: [{ source_labels: [EXPORTER_META_LABEL], regex: jobName, action: 'keep' }],
      };
    }
    const own = groups.filter((g) => g.labels[EXPORTER_META_LABEL] === jobName);
    return {
      ...base,
      static_configs: own.map((g) => ({
        targets: g.targets,
        labels: { node: g.labels.node, cluster: g.labels.cluster },
      })),
    };
  };
  const doc = {
    global: { scrape_interval: opts.scrapeInterval, scrape_timeout: '3s' },
    scrape_configs: [job(JOBS.dcgm), job(JOBS.vllm)],
    arcwatch: { cluster: opts.cluster },
  };
  return `# Written by fleet-sim: scrapes the simulated fleet (${nodes.length} nodes).\n${stringify(doc)}`;
}
