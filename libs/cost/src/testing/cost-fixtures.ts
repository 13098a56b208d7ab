import type { RequestCompletedV1, RequestEventKind } from '@arcwatch/contracts';
import { parseInventory, type Inventory } from '../inventory';
import { parsePriceCatalog, type PriceCatalog } from '../price-catalog';

/** Test helpers: request records as tracing prints them, and small inventories and catalogs. */
export const T0 = Date.parse('2026-01-05T00:00:00Z');

export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

export interface RecordSpec {
  id: string;
  tenant: string;
  instance?: string | null;
  received?: number;
  scheduled?: number;
  firstToken?: number;
  end: number;
  prompt?: number;
  completion?: number;
  team?: string;
  project?: string;
  model?: string;
  modelVersion?: string;
}

/** A completed request record; times in seconds after T0. */
export function record(s: RecordSpec): RequestCompletedV1 {
  const received = s.received ?? s.scheduled ?? 0;
  const timeline: Array<{ kind: RequestEventKind; time: string }> = [{ kind: 'received', time: at(received) }];
  if (s.scheduled !== undefined) timeline.push({ kind: 'scheduled', time: at(s.scheduled) });
  if (s.firstToken !== undefined) timeline.push({ kind: 'first_token', time: at(s.firstToken) });
  timeline.push({ kind: 'completed', time: at(s.end) });
  return {
    requestId: s.id,
    status: 'completed',
    startedAt: at(received),
    endedAt: at(s.end),
    tenant: s.tenant,
    team: s.team ?? `${s.tenant}-team`,
    project: s.project ?? `${s.tenant}-project`,
    apiKeyHash: null,
    model: s.model ?? 'llama-3.1-70b',
    modelVersion: s.modelVersion ?? 'v1',
    instance: s.instance === undefined ? 'vllm-h100-0' : s.instance,
    node: 'gpu-node-1',
    gpuUuids: [],
    promptTokens: s.prompt ?? 0,
    completionTokens: s.completion ?? 0,
    cachedTokens: null,
    finishReason: 'stop',
    error: null,
    queueMs: null,
    prefillMs: null,
    ttftMs: null,
    tpotMs: null,
    e2eMs: (s.end - received) * 1000,
    missingPhases: [],
    timeline,
  };
}

/** p5.48xlarge on-demand, us-east-1: 98.32 USD per instance-hour over 8 H100s. */
export const H100_PRICES_YAML = `prices:
  - gpuModel: H100
    instanceType: p5.48xlarge
    provider: aws
    region: us-east-1
    pricingKind: on-demand
    effectiveFrom: "2025-01-01T00:00:00Z"
    currency: USD
    perInstanceHour: "98.32"
    gpusPerInstance: 8
`;

export function h100Prices(): PriceCatalog {
  return parsePriceCatalog(H100_PRICES_YAML, 'prices.yaml');
}

/** One 8×H100 instance placed at T0. */
export function h100Inventory(idle: 'separate' | 'shared' = 'separate', instances = ['vllm-h100-0']): Inventory {
  const body = instances
    .map(
      (name, i) => `  - instance: ${name}
    pool: h100
    placements:
      - from: "${at(0)}"
        node: gpu-node-${i + 1}
        gpus: 8
        gpuModel: H100
        resourceId: i-${name}
        price: { provider: aws, region: us-east-1, pricingKind: on-demand }
`,
    )
    .join('');
  return parseInventory(
    `pools:\n  - { name: h100, owner: platform, idle: ${idle} }\ninstances:\n${body}`,
    'inventory.yaml',
  );
}
