import type { NodeGpuErrorV1 } from '@arcwatch/contracts';
import { normalisePciBusId, slotLabels, type GpuSlot } from '../labels/gpu-labels';
import { SampleSet } from '../sample-set';
import { matchEngineLine, matchKernelLine, type LogMatch } from './log-patterns';

/** A log the agent follows: the kernel's, or one engine's (with the GPU slots it runs on). */
export interface LogSource {
  name: string;
  kind: 'kernel' | 'engine';
  path: string;
  /** Engines: vllm, sglang, tgi… */
  engine?: string;
  /**
   * Engines: the UUIDs (GPU-… or MIG-…) of the devices the engine was given, in its CUDA order, so
   * `GPU 1 has a total capacity…` names the second one. With one device every error is its.
   */
  devices?: string[];
  /** Engines: the time-slice replica the engine runs on, if shared. */
  replica?: string;
}

export interface ErrorContext {
  cluster: string;
  hostname: string;
  /** The node's slots as last read (whole GPUs carry pci_bus_id; MIG slices their parent's). */
  slots: readonly GpuSlot[];
  /** MIG UUID → GPU_I_ID, for engine sources given MIG devices. */
  migUuids?: ReadonlyMap<string, { uuid: string; gpuInstanceId: string }>;
}

export interface TrackedError {
  data: NodeGpuErrorV1;
  /** The slot the error was put on, when one matched. */
  slot?: GpuSlot;
}

/**
 * Turns matched log lines into gpu-error events and keeps the counters that rules alert on:
 * `arcwatch_gpu_xid_errors_total{…slot labels, xid}`, `arcwatch_gpu_engine_errors_total{…, kind,
 * engine}`, and dcgm-exporter's `DCGM_FI_DEV_XID_ERRORS` gauge (the last Xid seen per GPU), so
 * rules written for dcgm-exporter fire on the agent's series.
 */
export class GpuErrorTracker {
  private readonly xidCounts = new Map<string, { labels: Record<string, string>; n: number }>();
  private readonly engineCounts = new Map<string, { labels: Record<string, string>; n: number }>();
  private readonly lastXid = new Map<string, { labels: Record<string, string>; xid: number }>();

  match(source: LogSource, line: string): LogMatch | undefined {
    return source.kind === 'kernel' ? matchKernelLine(line) : matchEngineLine(line);
  }

  private slotFor(source: LogSource, m: LogMatch, ctx: ErrorContext): GpuSlot | undefined {
    if (m.pci !== undefined) {
      return ctx.slots.find(
        (s) => s.GPU_I_ID === undefined && s.gpu_replica === undefined && normalisePciBusId(s.pci_bus_id) === m.pci,
      );
    }
    const devices = source.devices ?? [];
    const uuid =
      devices.length === 1 ? devices[0] : m.deviceOrdinal !== undefined ? devices[m.deviceOrdinal] : undefined;
    if (uuid === undefined) return undefined;
    const mig = ctx.migUuids?.get(uuid);
    const base = ctx.slots.find(
      (s) =>
        s.UUID === (mig?.uuid ?? uuid) &&
        s.gpu_replica === undefined &&
        s.GPU_I_ID === (mig ? mig.gpuInstanceId : undefined),
    );
    if (!base) return undefined;
    return source.replica !== undefined ? { ...base, gpu_replica: source.replica } : base;
  }

  /** Records one matched line; returns the event to publish. */
  record(source: LogSource, m: LogMatch, ctx: ErrorContext, observedAtMs: number): TrackedError {
    const slot = this.slotFor(source, m, ctx);
    const labels = slot ? slotLabels(slot) : { Hostname: ctx.hostname };
    if (m.kind === 'xid') {
      const l = { ...labels, xid: String(m.xid) };
      const k = JSON.stringify(l);
      const c = this.xidCounts.get(k) ?? { labels: l, n: 0 };
      c.n += 1;
      this.xidCounts.set(k, c);
      this.lastXid.set(JSON.stringify(labels), { labels, xid: m.xid! });
    } else {
      const l = { ...labels, kind: m.kind, engine: source.engine ?? source.name };
      const k = JSON.stringify(l);
      const c = this.engineCounts.get(k) ?? { labels: l, n: 0 };
      c.n += 1;
      this.engineCounts.set(k, c);
    }
    const data: NodeGpuErrorV1 = {
      kind: m.kind,
      cluster: ctx.cluster,
      node: ctx.hostname,
      observedAt: new Date(observedAtMs).toISOString(),
      source: { kind: source.kind, name: source.name, ...(source.engine ? { engine: source.engine } : {}) },
      xid: m.xid ?? null,
      gpu: slot ? slotLabels(slot) : null,
      pciAddress: m.pci ?? null,
      pid: m.pid ?? null,
      processName: m.processName ?? null,
      message: m.message,
    };
    return slot ? { data, slot } : { data };
  }

  /** The counters so far (zero-valued series are not invented: a counter appears at its first error). */
  samples(): SampleSet {
    const set = new SampleSet();
    for (const c of this.xidCounts.values()) {
      set.add(
        'arcwatch_gpu_xid_errors_total',
        'counter',
        'Xid errors reported by the NVIDIA kernel driver, per GPU and Xid.',
        c.labels,
        c.n,
      );
    }
    for (const x of this.lastXid.values()) {
      set.add('DCGM_FI_DEV_XID_ERRORS', 'gauge', 'Value of the last XID error encountered.', x.labels, x.xid);
    }
    for (const c of this.engineCounts.values()) {
      set.add(
        'arcwatch_gpu_engine_errors_total',
        'counter',
        'Inference engine errors read from engine logs, per kind.',
        c.labels,
        c.n,
      );
    }
    return set;
  }
}
