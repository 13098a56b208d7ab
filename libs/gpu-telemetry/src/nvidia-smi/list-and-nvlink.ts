/**
 * Two text outputs of nvidia-smi that have no CSV or XML form:
 *
 * `nvidia-smi -L` names each MIG device's profile and UUID (the XML carries neither on most
 * drivers):
 *   GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-…)
 *     MIG 3g.40gb     Device  0: (UUID: MIG-…)
 *
 * `nvidia-smi nvlink -gt d` (data throughput counters, KiB) and `nvidia-smi nvlink -e` (error
 * counters) print per GPU, per link:
 *   GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)
 *            Link 0: Data Tx: 5863784 KiB
 *            Link 0: Replay Errors: 0
 * and, on some drivers, a folded line for links that are all zero:
 *            Links 0-2, 4-5: Replay/Recovery/CRC Errors: 0
 */

export interface ListedMig {
  gpuIndex: string;
  deviceIndex: string;
  profile: string;
  uuid: string;
}

export interface ListedGpus {
  gpus: Array<{ index: string; name: string; uuid: string }>;
  migs: ListedMig[];
}

const GPU_LINE = /^GPU\s+(\d+):\s*(.*?)\s*\(UUID:\s*([^)\s]+)\)\s*$/;
const MIG_LINE = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s*\(UUID:\s*([^)\s]+)\)\s*$/;

export function parseListGpus(stdout: string): ListedGpus {
  const out: ListedGpus = { gpus: [], migs: [] };
  let current: string | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const g = GPU_LINE.exec(line);
    if (g) {
      current = g[1]!;
      out.gpus.push({ index: g[1]!, name: g[2]!, uuid: g[3]! });
      continue;
    }
    const m = MIG_LINE.exec(line);
    if (m && current !== undefined)
      out.migs.push({ gpuIndex: current, deviceIndex: m[2]!, profile: m[1]!, uuid: m[3]! });
  }
  return out;
}

export interface NvlinkCounter {
  gpuIndex: string;
  uuid: string;
  link: number;
  /** Normalised counter name: data_tx, data_rx, raw_tx, replay_errors, recovery_errors, crc_errors… */
  counter: string;
  value: number;
  /** The unit printed after the value (KiB for throughput), if any. */
  unit?: string;
}

function counterName(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

function expandLinks(spec: string): number[] {
  const links: number[] = [];
  for (const part of spec.split(',')) {
    const r = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!r) return [];
    const a = Number(r[1]);
    const b = r[2] === undefined ? a : Number(r[2]);
    for (let i = a; i <= b && i - a < 64; i++) links.push(i);
  }
  return links;
}

export function parseNvlinkCounters(stdout: string): NvlinkCounter[] {
  const out: NvlinkCounter[] = [];
  let gpu: { index: string; uuid: string } | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const g = GPU_LINE.exec(line);
    if (g) {
      gpu = { index: g[1]!, uuid: g[3]! };
      continue;
    }
    if (!gpu) continue;
    const m = /^\s*Links?\s+([\d,\s-]+):\s*([^:]+):\s*([-+]?\d+(?:\.\d+)?)\s*([A-Za-z/]*)\s*$/.exec(line);
    if (!m) continue;
    const links = expandLinks(m[1]!);
    // "Replay/Recovery/CRC Errors" names three counters at once.
    const label = m[2]!.trim();
    const names = label.includes('/')
      ? label
          .replace(/\s*Errors$/i, '')
          .split('/')
          .map((n) => counterName(`${n} errors`))
      : [counterName(label)];
    for (const link of links) {
      for (const counter of names) {
        const c: NvlinkCounter = { gpuIndex: gpu.index, uuid: gpu.uuid, link, counter, value: Number(m[3]) };
        if (m[4]) c.unit = m[4];
        out.push(c);
      }
    }
  }
  return out;
}
