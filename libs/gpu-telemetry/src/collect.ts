import type { MetricMetadata } from '@arcwatch/contracts';
import { detectFormat, parseExposition } from '@arcwatch/exposition';
import { mapSnapshot, snapshotSlots, type GpuSnapshot, type MappingOptions } from './dcgm-mapping';
import type { GpuSlot } from './labels/gpu-labels';
import type { GpuReader } from './nvidia-smi/gpu-reader';
import { NvidiaSmiError } from './nvidia-smi/nvidia-smi.runner';
import { SampleSet } from './sample-set';

export interface GpuCollection {
  /** DCGM-named series plus the agent's own read status. */
  set: SampleSet;
  snapshot?: GpuSnapshot;
  slots: GpuSlot[];
  /** Why nothing was read, when nothing was. No GPU (or no nvidia-smi) is not an error. */
  error?: NvidiaSmiError;
  problems: string[];
}

/** A node without NVIDIA GPUs (or without the driver's tools) reads as zero GPUs, not as a failure. */
export function isNoGpu(err: NvidiaSmiError): boolean {
  return err.code === 'NVSMI_NO_DEVICES' || err.code === 'NVSMI_NOT_FOUND';
}

export async function collectGpus(
  reader: GpuReader,
  opts: MappingOptions,
  nowMs: number,
  elapsed: () => number,
): Promise<GpuCollection> {
  const status = new SampleSet();
  const host = { Hostname: opts.hostname };
  try {
    const r = await reader.read(nowMs);
    const set = mapSnapshot(r.snapshot, opts);
    status.add('arcwatch_agent_gpu_read_success', 'gauge', '1 when the last nvidia-smi reading succeeded.', host, 1);
    status.add(
      'arcwatch_agent_gpus',
      'gauge',
      'GPUs nvidia-smi reported in the last reading.',
      host,
      r.snapshot.gpus.length,
    );
    status.add(
      'arcwatch_agent_gpu_read_duration_seconds',
      'gauge',
      'How long the last nvidia-smi reading took.',
      host,
      elapsed() / 1000,
    );
    set.addAll(status);
    return { set, snapshot: r.snapshot, slots: snapshotSlots(r.snapshot, opts), problems: r.problems };
  } catch (err) {
    const e = err instanceof NvidiaSmiError ? err : new NvidiaSmiError('NVSMI_FAILED', (err as Error).message);
    const noGpu = isNoGpu(e);
    status.add(
      'arcwatch_agent_gpu_read_success',
      'gauge',
      '1 when the last nvidia-smi reading succeeded.',
      host,
      noGpu ? 1 : 0,
    );
    status.add('arcwatch_agent_gpus', 'gauge', 'GPUs nvidia-smi reported in the last reading.', host, 0);
    status.add(
      'arcwatch_agent_gpu_read_duration_seconds',
      'gauge',
      'How long the last nvidia-smi reading took.',
      host,
      elapsed() / 1000,
    );
    return { set: status, slots: [], problems: [], ...(noGpu ? {} : { error: e }) };
  }
}

export interface ScrapedTarget {
  /** Full label sets with `__name__`, values as read. */
  samples: Array<{ labels: Record<string, string>; value: number }>;
  metadata: MetricMetadata[];
  error?: string;
}

const META_TYPES = new Set([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
  'unknown',
]);

/**
 * Scrapes one local /metrics endpoint (an exporter or an inference engine): samples as read,
 * families as metadata. DCGM blank sentinels are dropped by the parser, as the collector does.
 */
export async function scrapeTarget(url: string, timeoutMs: number): Promise<ScrapedTarget> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { samples: [], metadata: [], error: `HTTP ${res.status}` };
    const body = await res.text();
    const parsed = parseExposition(body, { format: detectFormat(res.headers.get('content-type') ?? undefined, body) });
    const samples = parsed.samples.map((x) => ({ labels: { __name__: x.name, ...x.labels }, value: x.value }));
    const metadata: MetricMetadata[] = parsed.families.map((f) => ({
      metric: f.name,
      type: (META_TYPES.has(f.type) ? f.type : 'unknown') as MetricMetadata['type'],
      ...(f.help ? { help: f.help } : {}),
    }));
    const out: ScrapedTarget = { samples, metadata };
    if (parsed.errors.length > 0) out.error = `${parsed.errors.length} lines not read`;
    return out;
  } catch (err) {
    return { samples: [], metadata: [], error: (err as Error).message };
  }
}
