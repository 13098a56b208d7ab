import {
  collectGpus,
  GpuErrorTracker,
  GpuReader,
  LogTailer,
  scrapeTarget,
  type GpuSlot,
  type GpuSnapshot,
  type LogSource,
} from '@arcwatch/gpu-telemetry';
import type { AgentSettings } from '../config/agent-settings.loader';
import type { Outgoing } from '../delivery/delivery.service';
import type { AgentMetrics } from '../metrics';
import type { Logger } from '../runtime-lite';
import { AGENT_JOB, buildGpuErrorEvent, TargetBatcher } from './batch-builder';

/** MIG UUID → parent GPU UUID and GPU instance id, so an engine given a MIG device is put on its slice. */
function migUuidMap(s: GpuSnapshot): Map<string, { uuid: string; gpuInstanceId: string }> {
  const out = new Map<string, { uuid: string; gpuInstanceId: string }>();
  for (const m of s.migs ?? []) {
    const gpu = s.gpus.find((g) => g.index === m.gpuIndex);
    const x = s.xml?.gpus.find((g) => g.uuid === gpu?.uuid);
    const gi = x?.migDevices.find((d) => d.index === m.deviceIndex)?.gpuInstanceId;
    if (gpu && gi !== undefined) out.set(m.uuid, { uuid: gpu.uuid, gpuInstanceId: gi });
  }
  return out;
}

/**
 * One interval's reading of the node: the GPUs through nvidia-smi (one batch, dcgm-exporter's
 * names), each configured exporter or engine (one batch each, as read), and the GPU errors the
 * followed logs printed since the last interval (one event each; their counters ride in the GPU
 * batch).
 */
export class CollectService {
  private readonly reader: GpuReader;
  private readonly tracker = new GpuErrorTracker();
  private readonly tailers: Array<{ source: LogSource; tailer: LogTailer }>;
  private slots: GpuSlot[] = [];
  private migUuids = new Map<string, { uuid: string; gpuInstanceId: string }>();
  private lastErrorCode: string | undefined;
  /** Per target (job/instance): its series between intervals (texts, staleness). */
  private readonly batchers = new Map<string, TargetBatcher>();

  constructor(
    private readonly settings: AgentSettings,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {
    const n = settings.nvidiaSmi;
    this.reader = new GpuReader({
      binary: n.path,
      timeoutMs: n.timeoutMs,
      xmlEveryMs: n.xmlEveryMs,
      nvlink: n.nvlink,
      nvlinkEveryMs: n.nvlinkEveryMs,
      mode: n.mode,
      periodMs: settings.intervalMs,
    });
    this.tailers = settings.logs.map((l) => ({
      source: {
        name: l.name,
        kind: l.kind,
        path: l.path,
        ...(l.engine ? { engine: l.engine } : {}),
        ...(l.devices ? { devices: l.devices } : {}),
        ...(l.replica ? { replica: l.replica } : {}),
      },
      tailer: new LogTailer(l.path, { fromStart: l.fromStart }),
    }));
  }

  /** After the last interval: the running nvidia-smi goes too. */
  close(): void {
    this.reader.close();
  }

  async tick(nowMs: number): Promise<Outgoing[]> {
    const { cluster, hostname } = this.settings;
    const started = performance.now();
    const [gpus, scraped] = await Promise.all([
      collectGpus(
        this.reader,
        { hostname, timeSliceReplicas: this.settings.timeSliceReplicas },
        nowMs,
        () => performance.now() - started,
      ),
      Promise.all(this.settings.scrape.map(async (t) => ({ t, r: await scrapeTarget(t.url, t.timeoutMs) }))),
    ]);
    if (gpus.error) {
      this.metrics.nvidiaSmiErrors.inc({ code: gpus.error.code });
      // Said once per change of state, not every second.
      if (this.lastErrorCode !== gpus.error.code)
        this.logger.error({ code: gpus.error.code, err: gpus.error.message }, 'nvidia-smi reading failed');
      this.lastErrorCode = gpus.error.code;
    } else {
      if (this.lastErrorCode !== undefined) this.logger.info('nvidia-smi readings are back');
      this.lastErrorCode = undefined;
      this.slots = gpus.slots;
      if (gpus.snapshot) this.migUuids = migUuidMap(gpus.snapshot);
    }
    for (const p of gpus.problems) this.logger.warn({ problem: p }, 'nvidia-smi reading incomplete');

    const events: Outgoing[] = [];
    for (const { source, tailer } of this.tailers) {
      for (const line of tailer.poll()) {
        const m = this.tracker.match(source, line.text);
        if (!m) continue;
        const e = this.tracker.record(
          source,
          m,
          { cluster, hostname, slots: this.slots, migUuids: this.migUuids },
          nowMs,
        );
        this.metrics.logErrors.inc({ kind: m.kind });
        this.logger.warn(
          { kind: m.kind, xid: m.xid, gpu: e.data.gpu?.gpu, log: source.name, message: m.message },
          'GPU error in log',
        );
        events.push(buildGpuErrorEvent(e.data, { logName: source.name, inode: line.inode, offset: line.offset }));
      }
    }

    const set = gpus.set;
    set.addAll(this.tracker.samples());
    const gpuSamples = set.samples().map((s) => ({ labels: { __name__: s.name, ...s.labels }, value: s.value }));
    const out: Outgoing[] = [
      this.batcher(AGENT_JOB, hostname).build(nowMs, gpuSamples, {
        failed: gpus.error !== undefined,
        metadata: set.metadata(),
      }),
    ];
    this.metrics.batchesBuilt.inc({ job: AGENT_JOB });
    for (const { t, r } of scraped) {
      const instance = new URL(t.url).host;
      if (r.error) {
        this.metrics.scrapeErrors.inc({ job: t.job });
        this.logger.warn({ job: t.job, url: t.url, err: r.error }, 'scrape failed');
      }
      // `up` as Prometheus writes it: 1 when the target answered, 0 when not.
      const samples = [...r.samples, { labels: { __name__: 'up' }, value: r.samples.length > 0 || !r.error ? 1 : 0 }];
      out.push(
        this.batcher(t.job, instance).build(nowMs, samples, {
          failed: r.samples.length === 0 && r.error !== undefined,
          ...(r.metadata ? { metadata: r.metadata } : {}),
        }),
      );
      this.metrics.batchesBuilt.inc({ job: t.job });
    }
    return [...out, ...events];
  }

  private batcher(job: string, instance: string): TargetBatcher {
    const key = `${job}/${instance}`;
    let b = this.batchers.get(key);
    if (!b)
      this.batchers.set(
        key,
        (b = new TargetBatcher({ cluster: this.settings.cluster, hostname: this.settings.hostname, job, instance })),
      );
    return b;
  }
}
