import { costAllocatedId, type CostAllocatedV1, type CostKey } from '@arcwatch/contracts';
import { IDLE_TENANT, UNATTRIBUTED_TENANT, type AllocationLine, type WindowAllocation } from './allocation';
import type { CostRequest } from './cost-request';
import { formatMicro } from './money';

/**
 * From allocation lines to what is reported and published: one cost.allocated record per period
 * and key (tenant, team, project, model, model version, API key hash, kind). Amounts are summed
 * as bigint and printed as decimal strings; records come out in a fixed order so that the same
 * allocation always yields the same bytes.
 */
export interface CostRecord {
  key: CostKey;
  id: string;
  data: CostAllocatedV1;
  amountMicro: bigint;
}

function keyOf(line: AllocationLine, req: CostRequest | undefined, periodStart: string, periodEnd: string): CostKey {
  if (line.requestId === null || !req) {
    return {
      periodStart,
      periodEnd,
      tenant: line.idleOwner ?? IDLE_TENANT,
      team: '',
      project: '',
      model: '',
      modelVersion: '',
      apiKeyHash: null,
      kind: 'idle',
    };
  }
  return {
    periodStart,
    periodEnd,
    tenant: line.tenant,
    team: req.team,
    project: req.project,
    model: req.model,
    modelVersion: req.modelVersion,
    apiKeyHash: req.apiKeyHash,
    kind: line.tenant === UNATTRIBUTED_TENANT ? 'unattributed' : 'requests',
  };
}

/** Period of a window: windows are grouped into periods of `periodMs` aligned to the epoch. */
export function summarizeCost(
  windows: readonly WindowAllocation[],
  requests: ReadonlyMap<string, CostRequest>,
  periodMs: number,
): CostRecord[] {
  const acc = new Map<
    string,
    {
      key: CostKey;
      w: WindowAllocation;
      micro: bigint;
      gpuMs: number;
      reqs: Set<string>;
      inTok: number;
      outTok: number;
    }
  >();
  for (const w of windows) {
    const ps = Math.floor(w.windowStartMs / periodMs) * periodMs;
    const periodStart = new Date(ps).toISOString();
    const periodEnd = new Date(ps + periodMs).toISOString();
    for (const line of w.lines) {
      const req = line.requestId === null ? undefined : requests.get(line.requestId);
      const key = keyOf(line, req, periodStart, periodEnd);
      const k = JSON.stringify([
        key.periodStart,
        key.tenant,
        key.team,
        key.project,
        key.model,
        key.modelVersion,
        key.apiKeyHash,
        key.kind,
        w.currency,
      ]);
      let a = acc.get(k);
      if (!a) {
        a = { key, w, micro: 0n, gpuMs: 0, reqs: new Set(), inTok: 0, outTok: 0 };
        acc.set(k, a);
      }
      a.micro += line.amountMicro;
      a.gpuMs += line.gpuMs;
      if (req) {
        // requestCount: requests that ran in the period; tokens count once, in the window where the request ended.
        a.reqs.add(req.requestId);
        if (req.endMs > w.windowStartMs && req.endMs <= w.windowEndMs) {
          a.inTok += req.promptTokens;
          a.outTok += req.completionTokens;
        }
      }
    }
  }
  const out: CostRecord[] = [];
  for (const [, a] of [...acc.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const data: CostAllocatedV1 = {
      ...a.key,
      amount: formatMicro(a.micro),
      currency: a.w.currency,
      inputTokens: a.inTok,
      outputTokens: a.outTok,
      gpuSeconds: Math.round(a.gpuMs) / 1000,
      requestCount: a.reqs.size,
      method: a.w.method,
      idlePolicy: a.w.idlePolicy,
      status: 'estimate',
    };
    out.push({ key: a.key, id: costAllocatedId(a.key, a.w.method), data, amountMicro: a.micro });
  }
  return out;
}
