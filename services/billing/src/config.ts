import { z } from 'zod';
import { accessClientEnv, accessEnv } from '@arcwatch/access';
import {
  bodyLimitEnv,
  commonEnv,
  dbSchemaEnv,
  env,
  httpEnv,
  parseEnv,
  type ConfigOf,
  type EnvSpec,
} from '@arcwatch/runtime';

/**
 * The billing service's environment, each variable named once with its schema; parsed once at
 * boot. Prices and the inventory are YAML files (libs/cost formats). Instances the inventory file
 * does not list are discovered from request records and priced with the BILLING_DEFAULT_* values.
 */
export const billingEnv = {
  ...commonEnv,
  ...httpEnv('BILLING', 8083),
  ...dbSchemaEnv('BILLING', 'billing'),
  ...accessEnv,
  /** The token sent to the collector's query API (BILLING_COLLECTOR_URL); AUTH_BOOTSTRAP_TOKEN when unset. */
  ...accessClientEnv,
  /** JSON and YAML bodies; an invoice CSV is read as a stream and counted against this limit too. */
  ...bodyLimitEnv('BILLING', 64 * 1024 * 1024),
  pricesFile: ['BILLING_PRICES_FILE', z.string().min(1).default('infra/billing/prices.yaml')],
  inventoryFile: ['BILLING_INVENTORY_FILE', env.optionalText],
  /** The collector's Prometheus-compatible API; when set, placements are also discovered from its GPU and vLLM series. */
  collectorUrl: ['BILLING_COLLECTOR_URL', env.optionalText],
  discoveryIntervalMs: ['BILLING_DISCOVERY_INTERVAL_MS', z.coerce.number().int().min(10).default(30_000)],
  /** A GPU series every dcgm-exporter sends (labels UUID, Hostname, modelName, gpu). */
  gpuSeries: ['BILLING_GPU_SERIES', z.string().min(1).default('DCGM_FI_DEV_GPU_UTIL')],
  /** A series every serving instance sends, with the scrape target's `instance` and `node` labels. */
  servingSeries: ['BILLING_SERVING_SERIES', z.string().min(1).default('vllm:num_requests_running')],
  /** Budgets and quotas (libs/cost budgets YAML); evaluated as windows close. */
  budgetsFile: ['BILLING_BUDGETS_FILE', env.optionalText],
  windowSeconds: ['BILLING_WINDOW_SECONDS', z.coerce.number().int().min(1).max(3600).default(60)],
  /** A window is allocated once the requests seen have ended this long after it (late requests wait). */
  latenessSeconds: ['BILLING_LATENESS_SECONDS', z.coerce.number().int().min(0).default(10)],
  method: ['BILLING_METHOD', z.enum(['time-share', 'tokens']).default('time-share')],
  prefillWeight: [
    'BILLING_PREFILL_WEIGHT',
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .default('1'),
  ],
  decodeWeight: [
    'BILLING_DECODE_WEIGHT',
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .default('1'),
  ],
  defaultGpuModel: ['BILLING_DEFAULT_GPU_MODEL', z.string().min(1).default('H100')],
  defaultGpus: ['BILLING_DEFAULT_GPUS', z.coerce.number().int().min(1).default(8)],
  defaultProvider: ['BILLING_DEFAULT_PROVIDER', z.string().min(1).default('aws')],
  defaultRegion: ['BILLING_DEFAULT_REGION', z.string().min(1).default('us-east-1')],
  defaultPricingKind: [
    'BILLING_DEFAULT_PRICING_KIND',
    z.enum(['on-demand', 'reserved', 'spot', 'on-prem']).default('on-demand'),
  ],
  /** Pool of discovered instances: who pays for their idle time, and whether idle is shared back. */
  defaultPoolOwner: ['BILLING_DEFAULT_POOL_OWNER', z.string().min(1).default('platform')],
  defaultIdle: ['BILLING_DEFAULT_IDLE', z.enum(['separate', 'shared']).default('separate')],
  workerIntervalMs: ['BILLING_WORKER_INTERVAL_MS', z.coerce.number().int().min(10).default(1_000)],
  /** Most windows closed in one transaction. */
  maxWindowsPerPass: ['BILLING_MAX_WINDOWS_PER_PASS', z.coerce.number().int().min(1).default(60)],
} as const satisfies EnvSpec;

export type BillingConfig = ConfigOf<typeof billingEnv>;

export const BILLING_CONFIG = Symbol('BILLING_CONFIG');

export function loadBillingConfig(source: Record<string, string | undefined> = process.env): BillingConfig {
  return parseEnv(billingEnv, source);
}
