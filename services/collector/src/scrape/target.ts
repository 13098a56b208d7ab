import { compileRules, relabel, type CompiledRule, type LabelSet } from '../relabel/relabel';
import { formatDuration } from '@arcwatch/config-files';
import type { ScrapeJob } from '../config/scrape-config.schema';

/**
 * Turning target groups (static_configs, file_sd_configs) into scrape targets, as Prometheus
 * does: the group's labels plus the `__address__`, `__scheme__`, `__metrics_path__`, `__param_*`
 * meta labels go through relabel_configs; labels starting with `__` are then removed, `instance`
 * defaults to the address, and the URL is built from what the meta labels became.
 */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
  /** Where the group came from (file path or static_configs[i]), for logs. */
  source: string;
}

export interface ScrapeTarget {
  /** Stable identity of the target within its job: same URL and labels, same key. */
  key: string;
  jobName: string;
  url: string;
  instance: string;
  /** The target's public labels, `job` and `instance` included. */
  labels: LabelSet;
  /** The host part of the address: the <node> token of the subject. */
  node: string;
}

export function labelsKey(labels: LabelSet): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

/** host of "host:port", "[v6]:port", "host"; lowercase. */
export function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1].toLowerCase();
  const i = address.lastIndexOf(':');
  return (i > 0 && address.indexOf(':') === i ? address.slice(0, i) : address).toLowerCase();
}

export class TargetBuilder {
  private readonly rules: CompiledRule[];

  constructor(private readonly job: ScrapeJob) {
    this.rules = compileRules(job.relabelConfigs);
  }

  build(groups: readonly TargetGroup[]): { targets: ScrapeTarget[]; dropped: number } {
    const byKey = new Map<string, ScrapeTarget>();
    let dropped = 0;
    for (const group of groups) {
      for (const address of group.targets) {
        const target = this.buildOne(address, group.labels);
        if (target) byKey.set(target.key, target);
        else dropped++;
      }
    }
    return { targets: [...byKey.values()], dropped };
  }

  private buildOne(address: string, groupLabels: Record<string, string>): ScrapeTarget | undefined {
    const job = this.job;
    const initial: LabelSet = {
      job: job.jobName,
      ...groupLabels,
      __address__: address,
      __scheme__: job.scheme,
      __metrics_path__: job.metricsPath,
      __scrape_interval__: formatDuration(job.intervalMs),
      __scrape_timeout__: formatDuration(job.timeoutMs),
    };
    for (const [name, values] of Object.entries(job.params))
      if (values.length > 0) initial[`__param_${name}`] = values[0];
    const labels = relabel(initial, this.rules);
    if (!labels || !labels.__address__) return undefined;
    const addr = labels.__address__;
    const query = new URLSearchParams();
    for (const [name, values] of Object.entries(job.params)) {
      const overridden = labels[`__param_${name}`];
      if (overridden !== undefined && overridden !== values[0]) query.append(name, overridden);
      else for (const v of values) query.append(name, v);
    }
    for (const [k, v] of Object.entries(labels)) {
      const name = k.startsWith('__param_') ? k.slice('__param_'.length) : undefined;
      if (name && job.params[name] === undefined) query.append(name, v);
    }
    const qs = query.toString();
    const url = `${labels.__scheme__ ?? job.scheme}://${addr}${labels.__metrics_path__ ?? job.metricsPath}${qs ? `?${qs}` : ''}`;
    const publicLabels: LabelSet = Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('__')));
    publicLabels.instance = publicLabels.instance ?? addr;
    publicLabels.job = publicLabels.job ?? job.jobName;
    return {
      key: `${url}\u0002${labelsKey(publicLabels)}`,
      jobName: job.jobName,
      url,
      instance: publicLabels.instance,
      labels: publicLabels,
      node: hostOf(addr),
    };
  }
}
