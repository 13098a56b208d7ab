/**
 * One H100's physical readings, driven by what the engine above it did: utilisation and power
 * follow the batch, temperature follows power with a thermal lag, memory is what vLLM
 * pre-allocates, energy and NVLink counters integrate power and tensor-parallel traffic.
 */
import type { DcgmValues } from './dcgm-catalog';
import type { EngineActivity } from './vllm-engine';
import { type Random, standardNormal, uniform } from './random';
import { GPU_MEMORY_MIB, type ServedModel } from './topology';

const IDLE_POWER_W = 72;
const MAX_POWER_W = 700;
const AMBIENT_C = 27;
const THERMAL_TAU_MS = 45_000;
const FB_RESERVED_MIB = 534;
/** vLLM's default --gpu-memory-utilization. */
const GPU_MEMORY_UTILIZATION = 0.9;
const THROTTLE_C = 85;

export interface GpuTraits {
  /** Silicon and airflow differ from board to board. */
  powerOffsetW: number;
  tempOffsetC: number;
  /** The one board with poor cooling: runs hot and throttles its clocks. */
  hot: boolean;
}

export interface GpuState {
  traits: GpuTraits;
  tempC: number;
  powerW: number;
  energyMj: number;
  nvlinkCounter: number;
  pcieReplays: number;
  fbUsedMiB: number;
  util: number;
  intensity: number;
  pcieTxBps: number;
  pcieRxBps: number;
  xid: number;
}

/** `ambientDeltaC`: how much warmer the inlet air is than the usual 27 °C (a cooling failure). */
export function newGpuTraits(r: Random, hot: boolean, ambientDeltaC = 0): GpuTraits {
  return {
    powerOffsetW: uniform(r, -12, 12),
    tempOffsetC: uniform(r, -2.5, 2.5) + (hot ? 23 : 0) + ambientDeltaC,
    hot,
  };
}

/** A board just after boot: cool, idle, counters at zero. */
export function bootedGpu(traits: GpuTraits): GpuState {
  return {
    traits,
    tempC: AMBIENT_C + 6 + traits.tempOffsetC / 2,
    powerW: IDLE_POWER_W,
    energyMj: 0,
    nvlinkCounter: 0,
    pcieReplays: 0,
    fbUsedMiB: 0,
    util: 0,
    intensity: 0,
    pcieTxBps: 0,
    pcieRxBps: 0,
    xid: 0,
  };
}

export interface GpuStepInput {
  activity: EngineActivity;
  model: ServedModel;
  dtMs: number;
  /** 0 while vLLM is loading weights, rising to 1 when it is ready. */
  memoryLoaded: number;
  /** An XID the driver reports now (79 = fallen off the bus, before a node dies); 0 = none. */
  xid: number;
}

export function stepGpu(s: GpuState, input: GpuStepInput, r: Random): void {
  const { activity, model, dtMs } = input;
  const peakDecode = (model.maxNumSeqs * 1000) / (model.decodeBaseMs + model.decodePerSeqMs * model.maxNumSeqs);
  const decodeShare = Math.min(1, activity.decodeTokensPerSec / (0.6 * peakDecode));
  const prefillShare = Math.min(1, activity.prefillTokensPerSec / model.prefillTokensPerSec);
  s.intensity = Math.min(1, 0.8 * decodeShare + 0.6 * prefillShare);
  const busy = activity.busyFraction;
  const batchUtil = 1 - Math.exp(-activity.running / 5);
  s.util = clamp(Math.round(100 * busy * batchUtil + standardNormal(r) * 2 * busy), 0, 100);
  const power =
    IDLE_POWER_W + (MAX_POWER_W - IDLE_POWER_W) * (0.22 * busy * batchUtil + 0.78 * Math.pow(s.intensity, 0.9));
  s.powerW = clamp(
    power + s.traits.powerOffsetW * (0.3 + s.intensity) + (s.traits.hot ? 20 * s.intensity : 0) + standardNormal(r) * 6,
    55,
    MAX_POWER_W,
  );
  const target = AMBIENT_C + 0.062 * s.powerW + s.traits.tempOffsetC;
  s.tempC += (target - s.tempC) * (1 - Math.exp(-dtMs / THERMAL_TAU_MS));
  s.energyMj += s.powerW * dtMs;
  const tokensInStep = ((activity.decodeTokensPerSec + activity.prefillTokensPerSec) * dtMs) / 1000;
  s.nvlinkCounter += Math.round(tokensInStep * model.nvlinkBytesPerToken * (0.95 + 0.1 * r.next()));
  if (r.next() < (s.traits.hot ? 2e-3 : 1e-4) * (dtMs / 1000)) s.pcieReplays += 1;
  const fullFb = Math.round(GPU_MEMORY_MIB * GPU_MEMORY_UTILIZATION);
  s.fbUsedMiB = Math.round(
    480 + (fullFb - 480) * input.memoryLoaded + (input.memoryLoaded >= 1 ? Math.round(standardNormal(r) * 6) : 0),
  );
  s.pcieTxBps = Math.round(2e5 + activity.decodeTokensPerSec * 4096 * (0.9 + 0.2 * r.next()));
  s.pcieRxBps = Math.round(1e5 + activity.prefillTokensPerSec * 512 * (0.9 + 0.2 * r.next()));
  s.xid = input.xid;
}

/** The DCGM fields of a board in its current state. */
export function dcgmValues(s: GpuState): DcgmValues {
  const temp = Math.round(s.tempC);
  const busy = s.util > 0;
  let smClock = busy ? 1980 : 345;
  // Past the slowdown temperature the driver steps clocks down in 15 MHz bins.
  if (busy && temp > THROTTLE_C) smClock = Math.max(1200, 1980 - Math.round(((temp - THROTTLE_C) * 60) / 15) * 15);
  const dram = 0.04 + 0.62 * s.intensity;
  return {
    smClock,
    memClock: 2619,
    memoryTemp: Math.round(s.tempC + 3 + 4 * s.intensity),
    gpuTemp: temp,
    power: Math.round(s.powerW * 1000) / 1000,
    energy: Math.round(s.energyMj),
    pcieReplay: s.pcieReplays,
    gpuUtil: s.util,
    memCopyUtil: Math.round(dram * 80),
    encUtil: 0,
    decUtil: 0,
    xid: s.xid,
    fbFree: GPU_MEMORY_MIB - s.fbUsedMiB - FB_RESERVED_MIB,
    fbUsed: s.fbUsedMiB,
    fbReserved: FB_RESERVED_MIB,
    nvlinkBandwidth: s.nvlinkCounter,
    vgpuLicense: 0,
    uncorrectableRemappedRows: 0,
    correctableRemappedRows: 0,
    rowRemapFailure: 0,
    grEngineActive: round6(Math.min(1, (s.util / 100) * 0.97)),
    tensorActive: round6(0.02 + 0.55 * s.intensity),
    dramActive: round6(dram),
    pcieTxBytes: s.pcieTxBps,
    pcieRxBytes: s.pcieRxBps,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
