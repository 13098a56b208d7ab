import {
  ConfigFileError,
  loadYamlConfig,
  parseYamlConfig,
  type ConfigIssue,
  type YamlSource,
} from '@arcwatch/config-files';
import { z } from 'zod';
import { CostError } from './money';
import { PRICING_KINDS, type PriceSelector } from './price-catalog';

/**
 * Inventory: which model instance held which GPUs on which node, over time. Each instance has a
 * list of placements; a placement holds from its `from` until the next one's (a change of
 * placement takes effect at its time), and a `retired` placement gives the GPUs back. Instances
 * belong to pools; a pool says who pays for idle time and whether idle is kept apart or shared
 * back over the requests.
 */
export const IDLE_POLICIES = ['separate', 'shared'] as const;
export type IdlePolicy = (typeof IDLE_POLICIES)[number];

const isoTime = z.iso.datetime({ offset: true });

export const poolSchema = z.strictObject({
  name: z.string().min(1),
  /** The tenant that idle time is charged to under `separate`. */
  owner: z.string().min(1),
  idle: z.enum(IDLE_POLICIES).default('separate'),
});
export type Pool = z.infer<typeof poolSchema>;

export const priceSelectorSchema = z.strictObject({
  instanceType: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
  zone: z.string().min(1).optional(),
  pricingKind: z.enum(PRICING_KINDS).optional(),
});

export const placementSchema = z
  .strictObject({
    from: isoTime,
    retired: z.boolean().default(false),
    node: z.string().min(1).optional(),
    gpuUuids: z.array(z.string().min(1)).default([]),
    /** GPUs held (tensor parallel); defaults to the number of gpuUuids. */
    gpus: z.number().int().positive().optional(),
    gpuModel: z.string().min(1).optional(),
    price: priceSelectorSchema.default({}),
    /** The provider's resource id (FOCUS ResourceId) the invoice bills this placement under. */
    resourceId: z.string().min(1).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.retired) return;
    if (p.gpuModel === undefined)
      ctx.addIssue({ code: 'custom', path: ['gpuModel'], message: 'required unless retired' });
    if (p.gpus === undefined && p.gpuUuids.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['gpus'], message: 'give gpus or gpuUuids' });
    }
    if (p.gpus !== undefined && p.gpuUuids.length > 0 && p.gpus !== p.gpuUuids.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['gpus'],
        message: `says ${p.gpus} but ${p.gpuUuids.length} gpuUuids are listed`,
      });
    }
  });
export type PlacementInput = z.infer<typeof placementSchema>;

export const instanceSchema = z.strictObject({
  instance: z.string().min(1),
  pool: z.string().min(1),
  placements: z.array(placementSchema).min(1),
});

export const inventoryFileSchema = z.strictObject({
  pools: z.array(poolSchema).min(1),
  instances: z.array(instanceSchema),
});
export type InventoryInput = z.infer<typeof inventoryFileSchema>;

/** One stretch of time during which an instance's placement did not change. */
export interface Placement {
  instance: string;
  pool: string;
  fromMs: number;
  /** The next placement's time, or +Infinity. */
  toMs: number;
  node: string | null;
  gpuUuids: string[];
  gpus: number;
  gpuModel: string;
  price: PriceSelector;
  resourceId: string | null;
}

export class Inventory {
  private readonly placementsByInstance = new Map<string, Placement[]>();
  private readonly pools = new Map<string, Pool>();

  constructor(pools: readonly Pool[], placements: readonly Placement[]) {
    for (const p of pools) this.pools.set(p.name, p);
    for (const p of placements) {
      if (!this.pools.has(p.pool))
        throw new CostError('INVENTORY_INVALID', `instance ${p.instance}: unknown pool ${p.pool}`);
      const list = this.placementsByInstance.get(p.instance) ?? [];
      list.push(p);
      this.placementsByInstance.set(p.instance, list);
    }
    for (const list of this.placementsByInstance.values()) list.sort((a, b) => a.fromMs - b.fromMs);
  }

  static fromInput(input: InventoryInput): Inventory {
    const placements: Placement[] = [];
    for (const inst of input.instances) {
      const sorted = [...inst.placements].sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
      sorted.forEach((p, i) => {
        if (p.retired) return;
        const next = sorted[i + 1];
        placements.push({
          instance: inst.instance,
          pool: inst.pool,
          fromMs: Date.parse(p.from),
          toMs: next ? Date.parse(next.from) : Number.POSITIVE_INFINITY,
          node: p.node ?? null,
          gpuUuids: p.gpuUuids,
          gpus: p.gpus ?? p.gpuUuids.length,
          gpuModel: p.gpuModel as string,
          price: { gpuModel: p.gpuModel as string, ...p.price },
          resourceId: p.resourceId ?? null,
        });
      });
    }
    return new Inventory(input.pools, placements);
  }

  /** This inventory plus more pools and placements (instances already here keep their own). */
  extend(pools: readonly Pool[], placements: readonly Placement[]): Inventory {
    const mine = [...this.placementsByInstance.values()].flat();
    const extra = placements.filter((p) => !this.placementsByInstance.has(p.instance));
    const morePools = pools.filter((p) => !this.pools.has(p.name));
    return new Inventory([...this.pools.values(), ...morePools], [...mine, ...extra]);
  }

  instances(): string[] {
    return [...this.placementsByInstance.keys()].sort();
  }

  has(instance: string): boolean {
    return this.placementsByInstance.has(instance);
  }

  pool(name: string): Pool {
    const p = this.pools.get(name);
    if (!p) throw new CostError('INVENTORY_INVALID', `unknown pool ${name}`);
    return p;
  }

  placements(instance: string): readonly Placement[] {
    return this.placementsByInstance.get(instance) ?? [];
  }

  /** The placement in force at `timeMs`, if the instance held GPUs then. */
  at(instance: string, timeMs: number): Placement | undefined {
    return this.placements(instance).find((p) => p.fromMs <= timeMs && timeMs < p.toMs);
  }

  /** Placements overlapping [fromMs, toMs), clipped to it. */
  between(instance: string, fromMs: number, toMs: number): Placement[] {
    return this.placements(instance)
      .filter((p) => p.fromMs < toMs && p.toMs > fromMs)
      .map((p) => ({ ...p, fromMs: Math.max(p.fromMs, fromMs), toMs: Math.min(p.toMs, toMs) }));
  }
}

function inventoryIssues(input: InventoryInput, source: YamlSource): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const pools = new Set<string>();
  input.pools.forEach((p, i) => {
    if (pools.has(p.name)) issues.push(source.issue(['pools', i, 'name'], `duplicate pool ${p.name}`));
    pools.add(p.name);
  });
  const names = new Set<string>();
  input.instances.forEach((inst, i) => {
    if (names.has(inst.instance))
      issues.push(source.issue(['instances', i, 'instance'], `duplicate instance ${inst.instance}`));
    names.add(inst.instance);
    if (!pools.has(inst.pool)) issues.push(source.issue(['instances', i, 'pool'], `unknown pool ${inst.pool}`));
    const times = new Set<number>();
    inst.placements.forEach((p, j) => {
      const t = Date.parse(p.from);
      if (times.has(t))
        issues.push(source.issue(['instances', i, 'placements', j, 'from'], 'two placements start at this time'));
      times.add(t);
    });
  });
  return issues;
}

export function parseInventory(text: string, file: string): Inventory {
  const { value, source } = parseYamlConfig(text, file, inventoryFileSchema);
  const issues = inventoryIssues(value, source);
  if (issues.length > 0) throw new ConfigFileError(issues);
  return Inventory.fromInput(value);
}

export function loadInventory(file: string): Inventory {
  const { value, source } = loadYamlConfig(file, inventoryFileSchema);
  const issues = inventoryIssues(value, source);
  if (issues.length > 0) throw new ConfigFileError(issues);
  return Inventory.fromInput(value);
}
