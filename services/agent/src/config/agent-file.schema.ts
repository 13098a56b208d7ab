/**
 * The agent's YAML file (AGENT_CONFIG). Every field has a default, so an empty file (or none)
 * reads the local GPUs every second and spools under /var/lib/arcwatch-agent.
 *
 *   cluster: prod-eu
 *   interval: 1s                # or intervalMs: 1000
 *   nvidiaSmi: { path: /usr/bin/nvidia-smi, timeoutMs: 5000, xmlEveryMs: 10000, nvlink: true }
 *   timeSliceReplicas: 4        # GPUs shared by time-slicing (device plugin replicas)
 *   scrape:
 *     - { job: vllm, url: http://127.0.0.1:8000/metrics }
 *   logs:
 *     - { name: kern, kind: kernel, path: /var/log/kern.log }
 *     - { name: vllm-70b, kind: engine, engine: vllm, path: /var/log/vllm.log, devices: [GPU-…] }
 *   spool: { dir: /var/lib/arcwatch-agent/spool, maxBytes: 268435456 }
 *
 * Checked by hand rather than with zod, which the agent does not load: zod and the schemas built
 * with it were the largest part of the agent's memory after Node itself
 * (docs/decisions/0006-agent-runtime.md). Like a strict zod object: unknown fields are errors, and
 * every problem is reported with its path (the loader adds file, line and column).
 */
export interface AgentFile {
  cluster: string;
  hostname?: string;
  interval?: string;
  intervalMs?: number;
  nvidiaSmi: {
    path: string;
    /** `loop`: one nvidia-smi kept running with -lms <interval>; `spawn`: one run per interval. */
    mode: 'loop' | 'spawn';
    timeoutMs: number;
    /**
     * `-q -x` this often; -1: only on GPUs with MIG on (read every interval there). Without MIG
     * it adds only the PCIe replay counter and the device's minor number (throttle reasons come
     * from the CSV's mask every interval where the driver has it), so 30 s loses nothing.
     */
    xmlEveryMs: number;
    nvlink: boolean;
    /**
     * NVLink counters this often: they are counters, nothing is lost between reads, and 30 s is
     * dcgm-exporter's own collection interval; 18 links × 8 GPUs read every 10 s cost the agent
     * about half its CPU (docs/decisions/0006-agent-runtime.md).
     */
    nvlinkEveryMs: number;
  };
  timeSliceReplicas: number;
  scrape: Array<{ job: string; url: string; timeoutMs: number }>;
  logs: Array<{
    name: string;
    kind: 'kernel' | 'engine';
    path: string;
    engine?: string;
    devices?: string[];
    replica?: string;
    /** Read what the file already holds when the agent starts (default: only new lines). */
    fromStart: boolean;
  }>;
  spool: { dir: string; maxBytes: number };
}

export type FilePath = ReadonlyArray<string | number>;

/** One problem: at `path`, or with `key`, an unknown field `key` of the map at `path`. */
export interface FileProblem {
  path: FilePath;
  message: string;
  key?: string;
}

const DURATION = /^(\d+)(ms|s|m)$/;

export function durationMs(d: string): number {
  const m = DURATION.exec(d)!;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v);

/** Reads one value after another, collecting problems instead of stopping at the first. */
class FileReader {
  readonly problems: FileProblem[] = [];

  private problem(path: FilePath, message: string): undefined {
    this.problems.push({ path, message });
    return undefined;
  }

  /** A map with only `fields`; absent: `{}` (every field's default). */
  map(v: unknown, path: FilePath, fields: readonly string[]): Record<string, unknown> {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.problem(path, `expected a map, got ${kindOf(v)}`);
      return {};
    }
    const m = v as Record<string, unknown>;
    for (const key of Object.keys(m))
      if (!fields.includes(key)) this.problems.push({ path, key, message: 'unknown field' });
    return m;
  }

  text(v: unknown, path: FilePath): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return this.problem(path, `expected text, got ${kindOf(v)}`);
    if (v.length === 0) return this.problem(path, 'must not be empty');
    return v;
  }

  matching(v: unknown, path: FilePath, re: RegExp, what: string): string | undefined {
    const s = this.text(v, path);
    if (s !== undefined && !re.test(s)) return this.problem(path, `expected ${what}, got "${s}"`);
    return s;
  }

  int(v: unknown, path: FilePath, min: number): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v))
      return this.problem(path, `expected a whole number, got ${kindOf(v)}`);
    if (v < min) return this.problem(path, `must be at least ${min}, got ${v}`);
    return v;
  }

  bool(v: unknown, path: FilePath): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.problem(path, `expected true or false, got ${kindOf(v)}`);
    return v;
  }

  oneOf<const T extends readonly string[]>(v: unknown, path: FilePath, values: T): T[number] | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !values.includes(v))
      return this.problem(path, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T[number];
  }

  url(v: unknown, path: FilePath): string | undefined {
    const s = this.text(v, path);
    if (s === undefined) return undefined;
    const protocol = URL.canParse(s) ? new URL(s).protocol : undefined;
    if (protocol !== 'http:' && protocol !== 'https:')
      return this.problem(path, `expected an http:// or https:// URL, got "${s}"`);
    return s;
  }

  list(v: unknown, path: FilePath): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.problem(path, `expected a list, got ${kindOf(v)}`);
      return [];
    }
    return v;
  }

  /** A required field: a problem when absent; `fallback` keeps the result typed while problems are reported. */
  required<T>(v: T | undefined, raw: unknown, path: FilePath, fallback: T): T {
    if (raw === undefined) this.problem(path, 'required');
    return v ?? fallback;
  }
}

/** The file's value (YAML's null for an empty file) checked, with every default filled in. */
export function checkAgentFile(raw: unknown): { ok: true; value: AgentFile } | { ok: false; problems: FileProblem[] } {
  const r = new FileReader();
  const top = r.map(
    raw ?? {},
    [],
    ['cluster', 'hostname', 'interval', 'intervalMs', 'nvidiaSmi', 'timeSliceReplicas', 'scrape', 'logs', 'spool'],
  );
  const smi = r.map(
    top.nvidiaSmi,
    ['nvidiaSmi'],
    ['path', 'mode', 'timeoutMs', 'xmlEveryMs', 'nvlink', 'nvlinkEveryMs'],
  );
  const at = (...p: Array<string | number>) => p;
  const interval = r.matching(top.interval, at('interval'), DURATION, 'a duration such as 500ms, 1s or 1m');
  const intervalMs = r.int(top.intervalMs, at('intervalMs'), 50);
  const hostname = r.text(top.hostname, at('hostname'));
  const scrape = r.list(top.scrape, at('scrape')).map((s, i) => {
    const m = r.map(s, at('scrape', i), ['job', 'url', 'timeoutMs']);
    return {
      job: r.required(r.text(m.job, at('scrape', i, 'job')), m.job, at('scrape', i, 'job'), ''),
      url: r.required(r.url(m.url, at('scrape', i, 'url')), m.url, at('scrape', i, 'url'), ''),
      timeoutMs: r.int(m.timeoutMs, at('scrape', i, 'timeoutMs'), 100) ?? 2000,
    };
  });
  const logs = r.list(top.logs, at('logs')).map((l, i) => {
    const m = r.map(l, at('logs', i), ['name', 'kind', 'path', 'engine', 'devices', 'replica', 'fromStart']);
    const engine = r.text(m.engine, at('logs', i, 'engine'));
    const devices =
      m.devices === undefined
        ? undefined
        : r.list(m.devices, at('logs', i, 'devices')).map((d, j) => r.text(d, at('logs', i, 'devices', j)) ?? '');
    const replica = r.matching(m.replica, at('logs', i, 'replica'), /^\d+$/, 'a replica number');
    return {
      name: r.required(r.text(m.name, at('logs', i, 'name')), m.name, at('logs', i, 'name'), ''),
      kind: r.required(
        r.oneOf(m.kind, at('logs', i, 'kind'), ['kernel', 'engine']),
        m.kind,
        at('logs', i, 'kind'),
        'kernel',
      ),
      path: r.required(r.text(m.path, at('logs', i, 'path')), m.path, at('logs', i, 'path'), ''),
      ...(engine === undefined ? {} : { engine }),
      ...(devices === undefined ? {} : { devices }),
      ...(replica === undefined ? {} : { replica }),
      fromStart: r.bool(m.fromStart, at('logs', i, 'fromStart')) ?? false,
    };
  });
  const spool = r.map(top.spool, ['spool'], ['dir', 'maxBytes']);
  const value: AgentFile = {
    cluster: r.text(top.cluster, at('cluster')) ?? 'default',
    ...(hostname === undefined ? {} : { hostname }),
    ...(interval === undefined ? {} : { interval }),
    ...(intervalMs === undefined ? {} : { intervalMs }),
    nvidiaSmi: {
      path: r.text(smi.path, at('nvidiaSmi', 'path')) ?? 'nvidia-smi',
      mode: r.oneOf(smi.mode, at('nvidiaSmi', 'mode'), ['loop', 'spawn']) ?? 'loop',
      timeoutMs: r.int(smi.timeoutMs, at('nvidiaSmi', 'timeoutMs'), 100) ?? 5000,
      xmlEveryMs: r.int(smi.xmlEveryMs, at('nvidiaSmi', 'xmlEveryMs'), -1) ?? 30_000,
      nvlink: r.bool(smi.nvlink, at('nvidiaSmi', 'nvlink')) ?? true,
      nvlinkEveryMs: r.int(smi.nvlinkEveryMs, at('nvidiaSmi', 'nvlinkEveryMs'), 0) ?? 30_000,
    },
    timeSliceReplicas: r.int(top.timeSliceReplicas, at('timeSliceReplicas'), 1) ?? 1,
    scrape,
    logs,
    spool: {
      dir: r.text(spool.dir, at('spool', 'dir')) ?? '/var/lib/arcwatch-agent/spool',
      maxBytes: r.int(spool.maxBytes, at('spool', 'maxBytes'), 4096) ?? 256 * 1024 * 1024,
    },
  };
  return r.problems.length > 0 ? { ok: false, problems: r.problems } : { ok: true, value };
}
