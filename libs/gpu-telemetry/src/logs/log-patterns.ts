import { normalisePciBusId } from '../labels/gpu-labels';

/**
 * The GPU errors that metrics miss, read from log lines:
 *
 * - kernel: the NVIDIA driver's Xid reports, in dmesg, kern.log or the journal:
 *   `[ 8123.456] NVRM: Xid (PCI:0000:3b:00): 79, pid=2871, name=python3, GPU has fallen off the bus.`
 *   Older drivers omit `PCI:`; `pid='<unknown>', name=<unknown>` appears for driver-internal
 *   errors; the journal and syslog add their own prefix before `NVRM:`.
 * - engine (vLLM, SGLang, TGI, anything on PyTorch): CUDA out-of-memory, failures to load the
 *   model, and the engine dying.
 */
export type GpuErrorKind = 'xid' | 'cuda_oom' | 'model_load_failure' | 'engine_crash';

export interface LogMatch {
  kind: GpuErrorKind;
  xid?: number;
  /** Normalised PCI address (`0000:3b:00`) from an Xid line. */
  pci?: string;
  /** The CUDA device ordinal an engine message names (`GPU 1 has a total capacity…`). */
  deviceOrdinal?: number;
  pid?: number;
  processName?: string;
  /** The message without log prefixes, at most 500 characters. */
  message: string;
}

const XID = /NVRM: Xid \((?:PCI:)?([0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\.[0-7])?)\):\s*(\d+),\s*(.*)$/;

export function matchKernelLine(line: string): LogMatch | undefined {
  const m = XID.exec(line);
  if (!m) return undefined;
  const rest = m[3]!.trim();
  const out: LogMatch = { kind: 'xid', xid: Number(m[2]), message: `Xid ${m[2]}: ${rest}`.slice(0, 500) };
  const pci = normalisePciBusId(m[1]!);
  if (pci) out.pci = pci;
  const pid = /(?:^|[\s,])pid=(\d+)/.exec(rest);
  if (pid) out.pid = Number(pid[1]);
  const name = /(?:^|[\s,])name=([^,\s]+)/.exec(rest);
  if (name && name[1] !== '<unknown>') out.processName = name[1]!;
  return out;
}

const ENGINE_RULES: ReadonlyArray<readonly [GpuErrorKind, RegExp]> = [
  // Out of memory first: an engine that dies of it logs both, and OOM is the cause.
  [
    'cuda_oom',
    /CUDA out of memory|OutOfMemoryError|CUDA error: out of memory|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED/,
  ],
  [
    'model_load_failure',
    /Failed to load (?:the )?model|Error (?:in |while |when )?loading (?:the )?model|Cannot load model|No model weights found|does not appear to have a file named|ShardCannotStart|Shard \d+ failed to start|Repository Not Found for url/i,
  ],
  [
    'engine_crash',
    /EngineDeadError|Engine loop has died|EngineCore (?:failed to start|encountered a fatal error)|Engine core initialization failed|Shard \d+ crashed|Scheduler hit an exception|Fatal Python error|Segmentation fault|core dumped|Webserver Crashed/i,
  ],
];

/** Strips a journal/syslog/timestamp prefix so the stored message starts at the error. */
function trimPrefix(line: string): string {
  return line
    .replace(/^\S+\s+\d+\s+[\d:]+\s+\S+\s+\S+?:\s*/, '')
    .replace(/^\[[^\]]*\]\s*/, '')
    .trim();
}

export function matchEngineLine(line: string): LogMatch | undefined {
  for (const [kind, re] of ENGINE_RULES) {
    if (!re.test(line)) continue;
    const out: LogMatch = { kind, message: trimPrefix(line).slice(0, 500) };
    const ord = /\bGPU (\d+) has a total capacity/.exec(line) ?? /\bon device (?:cuda:)?(\d+)\b/.exec(line);
    if (ord) out.deviceOrdinal = Number(ord[1]);
    return out;
  }
  return undefined;
}
