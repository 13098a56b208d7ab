import { UNKNOWN_LABEL, type RequestCompletedV1 } from '@arcwatch/contracts';

/**
 * A request as allocation sees it: the stretch of time it occupied its instance, its tokens and
 * the labels its cost is reported under. It occupies the instance from prefill start (`scheduled`;
 * `received` when that is missing) to its end; time spent queued costs it nothing.
 */
export interface CostRequest {
  requestId: string;
  instance: string;
  startMs: number;
  endMs: number;
  /** first_token time, when known and inside the interval: splits prefill from decode. */
  firstTokenMs: number | null;
  /** null when the tenant is unknown: its share is reported as `unattributed`. */
  tenant: string | null;
  team: string;
  project: string;
  model: string;
  modelVersion: string;
  apiKeyHash: string | null;
  promptTokens: number;
  completionTokens: number;
}

export type ToCostRequest = { ok: true; request: CostRequest } | { ok: false; reason: string };

function timeOf(record: RequestCompletedV1, kind: 'received' | 'scheduled' | 'first_token'): number | null {
  const e = record.timeline.find((t) => t.kind === kind);
  return e ? Date.parse(e.time) : null;
}

function known(label: string): boolean {
  return label !== '' && label !== UNKNOWN_LABEL;
}

export function costRequestFromRecord(record: RequestCompletedV1): ToCostRequest {
  if (record.instance === null || record.instance === '') return { ok: false, reason: 'no instance' };
  const startMs = timeOf(record, 'scheduled') ?? timeOf(record, 'received') ?? Date.parse(record.startedAt);
  const endMs = Date.parse(record.endedAt);
  if (!(endMs > startMs)) return { ok: false, reason: 'did not occupy its instance (end not after start)' };
  const ft = timeOf(record, 'first_token');
  return {
    ok: true,
    request: {
      requestId: record.requestId,
      instance: record.instance,
      startMs,
      endMs,
      firstTokenMs: ft !== null && ft > startMs && ft < endMs ? ft : null,
      tenant: known(record.tenant) ? record.tenant : null,
      team: record.team,
      project: record.project,
      model: record.model,
      modelVersion: record.modelVersion,
      apiKeyHash: record.apiKeyHash,
      promptTokens: record.promptTokens ?? 0,
      completionTokens: record.completionTokens ?? 0,
    },
  };
}
