/**
 * The simulated fleet as a pure model: seeded randomness, time only through `advanceTo(ms)`,
 * no I/O. The HTTP shell asks it for exposition pages and drains its request events; tests
 * drive it tick by tick.
 */
import { renderDcgm } from './dcgm-exposition';
import { Gateway, drawRequest } from './gateway';
import { type GpuState, type GpuTraits, bootedGpu, dcgmValues, newGpuTraits, stepGpu } from './gpu-model';
import { type OutagePlan, defaultOutagePlan, demand, isDown, msUntilDown } from './load-plan';
import { type Random, forkRandom, poisson, seededRandom, standardNormal } from './random';
import { EventOutbox, type SimRequestEvent } from './request-events';
import { type NodeSpec, buildTopology, groupCount } from './topology';
import { type EngineActivity, VllmEngine } from './vllm-engine';
import { renderVllm } from './vllm-exposition';

export interface FleetOptions {
  nodes: number;
  gpusPerNode?: number;
  seed?: number;
  /** Simulation start, ms since epoch (the live shell passes the wall clock). */
  startMs: number;
  basePort?: number;
  advertiseHost?: string;
  /** Resolution of the simulation; metrics and events are exact to it. */
  tickMs?: number;
  outage?: OutagePlan;
  /** The board with poor cooling; null for none. */
  hotGpu?: { node: number; gpu: number } | null;
  /** Multiplies every model group's demand. */
  loadScale?: number;
  /** Inlet air temperature, °C (default 27): higher runs every board hotter. */
  ambientC?: number;
  /** From boot until vLLM answers: loading weights, capturing CUDA graphs. */
  warmupMs?: number;
}

/** The inlet temperature the GPU model is calibrated for (gpu-model.ts). */
const DEFAULT_AMBIENT_C = 27;

interface NodeRuntime {
  spec: NodeSpec;
  up: boolean;
  bootedAtMs: number;
  readyAtMs: number;
  engine: VllmEngine | null;
  traits: GpuTraits[];
  gpus: GpuState[];
}

const IDLE: EngineActivity = { running: 0, busyFraction: 0, decodeTokensPerSec: 0, prefillTokensPerSec: 0 };
/** Uptime the fleet has when the simulation starts, so energy counters are not all near zero. */
const INITIAL_UPTIME_MS = 6 * 3_600_000;
/** How long before dying a node reports XID 79 (GPU fallen off the bus). */
const XID_WARNING_MS = 20_000;

export class FleetModel {
  readonly nodes: readonly NodeSpec[];
  readonly startMs: number;
  readonly tickMs: number;
  private readonly runtimes: NodeRuntime[];
  private readonly outage: OutagePlan;
  private readonly traffic: Random;
  private readonly physics: Random;
  private readonly outbox = new EventOutbox();
  private readonly gateway: Gateway;
  private readonly groupNoise: number[];
  private readonly loadScale: number;
  private readonly warmupMs: number;
  private t: number;

  constructor(opts: FleetOptions) {
    const seed = opts.seed ?? 1;
    this.startMs = opts.startMs;
    this.t = opts.startMs;
    this.tickMs = opts.tickMs ?? 250;
    this.loadScale = opts.loadScale ?? 1;
    this.warmupMs = opts.warmupMs ?? 40_000;
    this.outage = opts.outage ?? defaultOutagePlan(opts.nodes);
    this.nodes = buildTopology({
      nodes: opts.nodes,
      gpusPerNode: opts.gpusPerNode ?? 8,
      seed,
      basePort: opts.basePort ?? 19400,
      advertiseHost: opts.advertiseHost ?? '127.0.0.1',
    });
    const root = seededRandom(seed);
    this.traffic = forkRandom(root, 1);
    this.physics = forkRandom(root, 2);
    this.gateway = new Gateway(forkRandom(root, 3), this.outbox);
    this.groupNoise = new Array<number>(groupCount(this.nodes)).fill(0);
    const hot = opts.hotGpu === undefined ? { node: 0, gpu: Math.min(5, (opts.gpusPerNode ?? 8) - 1) } : opts.hotGpu;
    this.runtimes = this.nodes.map((spec) => {
      const traits = spec.gpus.map((g) =>
        newGpuTraits(
          this.physics,
          hot !== null && hot.node === spec.index && hot.gpu === g.index,
          (opts.ambientC ?? DEFAULT_AMBIENT_C) - DEFAULT_AMBIENT_C,
        ),
      );
      const rt: NodeRuntime = {
        spec,
        up: true,
        bootedAtMs: this.t - INITIAL_UPTIME_MS,
        readyAtMs: this.t,
        engine: null,
        traits,
        gpus: [],
      };
      rt.engine = new VllmEngine(spec, this.t, this.outbox);
      rt.gpus = traits.map((tr) => {
        const g = bootedGpu(tr);
        g.fbUsedMiB = 73_403;
        g.energyMj = Math.round(INITIAL_UPTIME_MS * (250 + tr.powerOffsetW));
        g.nvlinkCounter = Math.round(INITIAL_UPTIME_MS * 4e5);
        return g;
      });
      return rt;
    });
  }

  get nowMs(): number {
    return this.t;
  }

  /** Runs whole ticks up to `ms`; the result does not depend on how the calls are spaced. */
  advanceTo(ms: number): void {
    while (this.t + this.tickMs <= ms) {
      this.tick(this.t, this.t + this.tickMs);
      this.t += this.tickMs;
    }
  }

  isNodeUp(node: number): boolean {
    return this.runtimes[node].up;
  }

  /** vLLM answers only once its weights are loaded; dcgm-exporter answers as soon as the node is up. */
  isVllmReady(node: number): boolean {
    const rt = this.runtimes[node];
    return rt.up && this.t >= rt.readyAtMs && rt.engine !== null;
  }

  /** The node's dcgm-exporter page, or null while the node is down. */
  dcgmExposition(node: number): string | null {
    const rt = this.runtimes[node];
    if (!rt.up) return null;
    return renderDcgm(rt.spec, rt.gpus.map(dcgmValues));
  }

  /** The node's vLLM page, or null while the node is down or vLLM still loads. */
  vllmExposition(node: number): string | null {
    const rt = this.runtimes[node];
    if (!this.isVllmReady(node) || !rt.engine) return null;
    return renderVllm(rt.engine);
  }

  /** The engine of a node (tests read its queues); null while the node is down. */
  engine(node: number): VllmEngine | null {
    return this.runtimes[node].engine;
  }

  /** Request events since the last drain, in emission order. */
  drainEvents(): SimRequestEvent[] {
    return this.outbox.drain();
  }

  private tick(t0: number, t1: number): void {
    const dt = t1 - t0;
    for (const rt of this.runtimes) {
      const down = isDown(this.outage, rt.spec.index, this.startMs, t1);
      if (down && rt.up) this.crash(rt, t0);
      else if (!down && !rt.up) this.boot(rt, t0);
    }
    this.arrivals(t0, t1);
    for (const rt of this.runtimes) {
      if (!rt.up) continue;
      const ready = rt.engine !== null && t0 >= rt.readyAtMs;
      if (ready && rt.engine) rt.engine.step(t0, t1);
      const sinceBoot = t1 - rt.bootedAtMs;
      const memoryLoaded = ready ? 1 : Math.min(1, Math.max(0, (sinceBoot - 5000) / Math.max(1, this.warmupMs - 5000)));
      const warning = msUntilDown(this.outage, rt.spec.index, this.startMs, t1) <= XID_WARNING_MS;
      rt.gpus.forEach((g, i) => {
        stepGpu(
          g,
          {
            activity: ready && rt.engine ? rt.engine.activity : IDLE,
            model: rt.spec.model,
            dtMs: dt,
            memoryLoaded,
            xid: warning && i === 0 ? 79 : 0,
          },
          this.physics,
        );
      });
    }
  }

  private arrivals(t0: number, t1: number): void {
    const dt = t1 - t0;
    for (let group = 0; group < this.groupNoise.length; group++) {
      // Ornstein–Uhlenbeck noise: demand wanders but returns to the curve within about a minute.
      const k = dt / 60_000;
      this.groupNoise[group] = Math.max(
        -0.4,
        Math.min(0.4, this.groupNoise[group] * (1 - k) + 0.12 * Math.sqrt(k) * standardNormal(this.traffic)),
      );
      const members = this.runtimes.filter((rt) => rt.spec.group === group);
      const model = members[0].spec.model;
      const rps = model.nominalRps * members.length * demand(t0, group) * (1 + this.groupNoise[group]) * this.loadScale;
      const n = poisson(this.traffic, (rps * dt) / 1000);
      const ready = members
        .filter((rt) => rt.up && rt.engine !== null && t0 >= rt.readyAtMs)
        .map((rt) => rt.engine as VllmEngine);
      for (let i = 0; i < n; i++) {
        const at = t0 + ((i + this.traffic.next()) / n) * dt;
        this.gateway.admit(drawRequest(this.traffic, model, at), ready, model.maxModelLen);
      }
    }
  }

  private crash(rt: NodeRuntime, at: number): void {
    if (rt.engine) this.gateway.lost(rt.engine.crash(), at);
    rt.engine = null;
    rt.up = false;
  }

  /** A reboot: counters since boot restart at zero, vLLM reloads its weights before it answers. */
  private boot(rt: NodeRuntime, at: number): void {
    rt.up = true;
    rt.bootedAtMs = at;
    rt.readyAtMs = at + this.warmupMs;
    rt.gpus = rt.traits.map(bootedGpu);
    rt.engine = new VllmEngine(rt.spec, rt.readyAtMs, this.outbox);
  }
}
