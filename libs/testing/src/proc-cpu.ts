/**
 * CPU time of processes from /proc (Linux): utime + stime of /proc/<pid>/stat, in seconds.
 * PostgreSQL runs one backend process per connection, so its share of a benchmark is the CPU of
 * the backends connected to the benchmark's database, sampled while they live.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Pool } from 'pg';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU-seconds (user + system) the process has used so far; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces; fields after it are space-separated.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clockTicks();
}

/** CPU-seconds of this process so far (user + system). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Samples the CPU of every PostgreSQL backend connected to one database, from `start()` to
 * `stop()`. A backend seen for the first time after start() counts from zero (it was born during
 * the run); one that exits between two samples loses at most one interval of its CPU.
 */
export class PgBackendCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly admin: Pool,
    private readonly database: string,
    private readonly intervalMs = 200,
  ) {}

  async start(): Promise<void> {
    await this.sample();
    this.started = true;
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.intervalMs);
  }

  async stop(): Promise<{ cpuSeconds: number; backends: number }> {
    clearInterval(this.timer);
    await this.sample();
    let cpu = 0;
    for (const [pid, end] of this.last) cpu += end - (this.first.get(pid) ?? 0);
    return { cpuSeconds: cpu, backends: this.last.size };
  }

  private async sample(): Promise<void> {
    const { rows } = await this.admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
      this.database,
    ]);
    for (const { pid } of rows) {
      const cpu = processCpuSeconds(pid);
      if (cpu === undefined) continue;
      if (!this.first.has(pid)) this.first.set(pid, this.started ? 0 : cpu);
      this.last.set(pid, cpu);
    }
  }
}

/** Pids whose command name (/proc/<pid>/comm) is exactly `comm`, e.g. the local nats-server. */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

export interface CpuMeter {
  stop(): Promise<{ processCpu: number; postgresCpu?: number; natsCpu?: number; driverCpu: number }>;
}

/**
 * CPU-seconds from now until `stop()`: of the system's processes, of this (driving) process and,
 * given the database, of its PostgreSQL backends and of the local nats-server (shared with
 * everything else on the machine, so an upper bound).
 */
export async function startCpuMeter(
  pids: readonly number[],
  pg?: { admin: Pool; database: string },
): Promise<CpuMeter> {
  const natsPids = pg ? pidsNamed('nats-server') : [];
  const natsCpu = () => natsPids.reduce((n, pid) => n + (processCpuSeconds(pid) ?? 0), 0);
  const backends = pg ? new PgBackendCpu(pg.admin, pg.database) : undefined;
  await backends?.start();
  const procCpu = () => pids.reduce((n, pid) => n + (processCpuSeconds(pid) ?? 0), 0);
  const proc0 = procCpu();
  const nats0 = natsCpu();
  const self0 = selfCpuSeconds();
  return {
    async stop() {
      const processCpu = procCpu() - proc0;
      const driverCpu = selfCpuSeconds() - self0;
      const natsDelta = natsCpu() - nats0;
      const pgCpu = await backends?.stop();
      return { processCpu, driverCpu, ...(pg ? { postgresCpu: pgCpu!.cpuSeconds, natsCpu: natsDelta } : {}) };
    },
  };
}
