import type { GpuSnapshot } from '../dcgm-mapping';
import { parseListGpus, parseNvlinkCounters, type NvlinkCounter } from './list-and-nvlink';
import { NvidiaSmiError, runNvidiaSmi } from './nvidia-smi.runner';
import { QueryStream } from './query-stream';
import { invalidQueryField, METRIC_FIELDS, parseQueryGpu, queryFieldList, type QueryMetricField } from './query-gpu';
import { parseQueryXml, type QueryXmlResult } from './query-xml';

export interface GpuReaderOptions {
  binary?: string;
  timeoutMs?: number;
  /** Read `-q -x` (MIG slices, named throttle reasons, PCIe replays) at most this often; 0: every read. */
  xmlEveryMs?: number;
  /** Read NVLink counters (`nvlink -gt d`, `nvlink -e`). */
  nvlink?: boolean;
  /** Read NVLink counters at most this often (default 10 s; 0: every read). Counters lose nothing between reads. */
  nvlinkEveryMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * `loop`: after the first reading, one nvidia-smi stays running with `-lms <periodMs>` and each
   * read takes its latest round (no process per interval, NVML stays open); `spawn`: one run per
   * read. Default `spawn`.
   */
  mode?: 'spawn' | 'loop';
  /** The loop's period (the agent's interval). */
  periodMs?: number;
}

export interface GpuReadResult {
  snapshot: GpuSnapshot;
  /** Readings that failed this time but did not stop the others (XML, NVLink). */
  problems: string[];
  /** Fields this driver refused, dropped for good. */
  droppedFields: string[];
}

/**
 * Reads the node's GPUs through nvidia-smi. Keeps what it learnt between reads: the query fields
 * this driver accepts (an unknown field makes nvidia-smi refuse the whole query), the last XML
 * reading (it is slow, read less often) and whether the GPUs have NVLink at all.
 */
export class GpuReader {
  private fields: QueryMetricField[] = [...METRIC_FIELDS];
  private readonly dropped: string[] = [];
  private lastXml?: { atMs: number; value: QueryXmlResult; migs: GpuSnapshot['migs'] };
  private nvlinkAbsent = false;
  private lastNvlinkAtMs: number | undefined;
  private stream: { q: QueryStream; fields: string[] } | undefined;

  constructor(private readonly opts: GpuReaderOptions = {}) {}

  private run(args: string[]): Promise<string> {
    return runNvidiaSmi(args, { binary: this.opts.binary, timeoutMs: this.opts.timeoutMs ?? 5000, env: this.opts.env });
  }

  /** In `loop` mode: the running nvidia-smi has printed a complete round to take. */
  get loopReady(): boolean {
    return this.stream?.q.hasRound ?? false;
  }

  /** Stops the long-running nvidia-smi of `loop` mode. */
  close(): void {
    this.stream?.q.stop();
    this.stream = undefined;
  }

  /** Throws NvidiaSmiError when the main query fails (driver error, no devices, timeout…). */
  async read(nowMs: number): Promise<GpuReadResult> {
    const problems: string[] = [];
    let stdout: string | undefined;
    let asked: string[] = [];
    if (this.stream) {
      const period = this.opts.periodMs ?? 1000;
      if (!this.stream.q.running) this.stream.q.start();
      try {
        stdout = this.stream.q.latest((this.opts.timeoutMs ?? 5000) + period).lines.join('\n');
        asked = this.stream.fields;
      } catch (err) {
        // A loop that exited or hung is reported like a failed run; one just (re)started has no round yet: ask once.
        if (
          !(err instanceof NvidiaSmiError) ||
          err.code !== 'NVSMI_FAILED' ||
          !err.message.startsWith('no complete reading')
        )
          throw err;
      }
    }
    for (let attempt = 0; stdout === undefined; attempt++) {
      asked = queryFieldList(this.fields);
      try {
        stdout = await this.run([`--query-gpu=${asked.join(',')}`, '--format=csv,noheader,nounits']);
      } catch (err) {
        const bad =
          err instanceof NvidiaSmiError && err.code === 'NVSMI_INVALID_FIELD'
            ? invalidQueryField(err.message)
            : undefined;
        const known = bad !== undefined && this.fields.some((f) => f.field === bad);
        if (!known || attempt > METRIC_FIELDS.length) throw err;
        this.fields = this.fields.filter((f) => f.field !== bad);
        this.dropped.push(bad);
      }
    }
    const parsed = parseQueryGpu(stdout, asked, this.fields);
    problems.push(...parsed.problems);
    if (this.opts.mode === 'loop' && !this.stream && parsed.gpus.length > 0) {
      this.stream = {
        fields: asked,
        q: new QueryStream({
          binary: this.opts.binary ?? 'nvidia-smi',
          fields: asked,
          periodMs: this.opts.periodMs ?? 1000,
          gpuCount: parsed.gpus.length,
          env: this.opts.env,
        }),
      };
      this.stream.q.start();
    }
    const snapshot: GpuSnapshot = { gpus: parsed.gpus };

    const every = this.opts.xmlEveryMs ?? 0;
    // MIG slices' memory is only in the XML: a node with MIG on reads it every time.
    const mig = parsed.gpus.some((g) => g.migEnabled);
    if (parsed.gpus.length > 0 && (every >= 0 || mig)) {
      if (this.lastXml && !mig && nowMs - this.lastXml.atMs < every) {
        // Kept for labels (device minor numbers); its values are not sent again as new samples.
        snapshot.xml = this.lastXml.value;
        snapshot.xmlFresh = false;
        if (this.lastXml.migs) snapshot.migs = this.lastXml.migs;
      } else {
        try {
          const xml = parseQueryXml(await this.run(['-q', '-x']));
          let migs: GpuSnapshot['migs'];
          if (xml.gpus.some((g) => g.migDevices.length > 0)) migs = parseListGpus(await this.run(['-L'])).migs;
          this.lastXml = { atMs: nowMs, value: xml, migs };
          snapshot.xml = xml;
          if (migs) snapshot.migs = migs;
        } catch (err) {
          problems.push(`-q -x: ${(err as Error).message}`);
        }
      }
    }

    const nvlinkDue =
      this.lastNvlinkAtMs === undefined || nowMs - this.lastNvlinkAtMs >= (this.opts.nvlinkEveryMs ?? 10_000);
    if (this.opts.nvlink && !this.nvlinkAbsent && parsed.gpus.length > 0 && nvlinkDue) {
      this.lastNvlinkAtMs = nowMs;
      try {
        const counters: NvlinkCounter[] = [
          ...parseNvlinkCounters(await this.run(['nvlink', '-gt', 'd'])),
          ...parseNvlinkCounters(await this.run(['nvlink', '-e'])),
        ];
        // A node without NVLink prints GPU lines and no links: stop asking.
        if (counters.length === 0) this.nvlinkAbsent = true;
        snapshot.nvlink = counters;
      } catch (err) {
        problems.push(`nvlink: ${(err as Error).message}`);
      }
    }
    return { snapshot, problems, droppedFields: [...this.dropped] };
  }
}
