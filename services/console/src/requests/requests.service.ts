import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { canSeeTenant, type Principal } from '@arcwatch/access';
import { ConsoleError } from '../errors';
import { FleetService } from '../fleet/fleet.service';
import { iso } from '../http/window';
import { unavailable } from '../instances/instances.service';
import { quoteLabel } from '../upstream/prometheus';
import { UpstreamClient } from '../upstream/upstream.client';

/** The fields of a request record the console relies on; the rest passes through. */
const requestSchema = z.looseObject({
  requestId: z.string(),
  tenant: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  node: z.string().nullable().optional(),
  gpuUuids: z.array(z.string()).optional(),
});
type RequestRecord = z.infer<typeof requestSchema>;
const pageSchema = z.object({ requests: z.array(requestSchema), nextCursor: z.string().nullable() });

export interface SearchFilters {
  fromMs: number;
  toMs: number;
  tenant: string | undefined;
  model?: string | undefined;
  status?: string | undefined;
  minLatencyMs?: string | undefined;
  node?: string | undefined;
  gpu?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Tracing has no node or GPU filter: the console scans this many of its pages for one answer. */
const MAX_SCAN_PAGES = 5;

@Injectable()
export class RequestsService {
  constructor(
    private readonly upstream: UpstreamClient,
    private readonly fleet: FleetService,
  ) {}

  async search(f: SearchFilters): Promise<{ items: RequestRecord[]; nextCursor: string | null; scanned: number }> {
    const placed = f.node !== undefined || f.gpu !== undefined;
    const items: RequestRecord[] = [];
    let cursor = f.cursor;
    let scanned = 0;
    for (let page = 0; page < (placed ? MAX_SCAN_PAGES : 1); page++) {
      const body = await this.upstream.get<unknown>('tracing', 'api/v1/requests', {
        from: iso(f.fromMs),
        to: iso(f.toMs),
        tenant: f.tenant,
        model: f.model,
        status: f.status,
        minLatencyMs: f.minLatencyMs,
        limit: placed ? 1000 : f.limit,
        cursor,
      });
      const p = pageSchema.safeParse(body);
      if (!p.success)
        throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'tracing: unexpected search body', {
          details: { service: 'tracing' },
          expose: true,
        });
      scanned += p.data.requests.length;
      // The tenant filter is re-applied here so a scoped caller never sees another tenant's record.
      const kept = p.data.requests.filter(
        (r) =>
          (f.tenant === undefined || r.tenant === f.tenant) &&
          (f.node === undefined || r.node === f.node) &&
          (f.gpu === undefined || (r.gpuUuids ?? []).includes(f.gpu)),
      );
      items.push(...kept);
      cursor = p.data.nextCursor ?? undefined;
      if (!cursor || items.length >= f.limit) break;
    }
    return { items: items.slice(0, f.limit), nextCursor: cursor ?? null, scanned };
  }

  /** The request, its cost when billing has it, and its GPUs while it ran. */
  async page(p: Principal, requestId: string) {
    const o = await this.upstream.call<unknown>('tracing', 'GET', `api/v1/requests/${encodeURIComponent(requestId)}`);
    if (!o.ok && o.status === 404) throw new ConsoleError('NOT_FOUND', `no request ${requestId}`);
    const parsed = requestSchema.safeParse(this.upstream.unwrap(o));
    // Another tenant's request answers exactly like a missing one: its existence is not revealed.
    if (!parsed.success || !canSeeTenant(p, parsed.data.tenant))
      throw new ConsoleError('NOT_FOUND', `no request ${requestId}`);
    const request = parsed.data;
    const [cost, gpus] = await Promise.all([
      this.cost(requestId, p),
      this.gpus(request).catch((err: unknown) => unavailable(err, 'collector')),
    ]);
    return { request, cost, gpus };
  }

  private async cost(requestId: string, p: Principal) {
    const o = await this.upstream.call<Record<string, unknown>>(
      'billing',
      'GET',
      `api/v1/reports/requests/${encodeURIComponent(requestId)}`,
    );
    if (o.ok) return { allocation: p.tenant === null ? o.data : redactSharing(o.data, p.tenant) };
    if (o.status === 404)
      return { pending: 'billing has not allocated this request yet (allocation runs per closed window)' };
    return { unavailable: { service: 'billing', message: o.message } };
  }

  private async gpus(r: RequestRecord) {
    const uuids = r.gpuUuids ?? [];
    if (uuids.length === 0 || !r.endedAt) return { series: [] };
    const start = Date.parse(r.startedAt) - 30_000;
    const end = Date.parse(r.endedAt) + 30_000;
    const sel = `UUID=~${quoteLabel(uuids.map(escapeRegex).join('|'))}`;
    const [util, power] = await Promise.all([
      this.fleet.range(`DCGM_FI_DEV_GPU_UTIL{${sel}}`, start, end, 1),
      this.fleet.range(`DCGM_FI_DEV_POWER_USAGE{${sel}}`, start, end, 1),
    ]);
    const pack = (field: string, list: typeof util) =>
      list.map((s) => ({
        field,
        uuid: s.metric.UUID ?? null,
        node: s.metric.node ?? s.metric.Hostname ?? null,
        gpu: s.metric.gpu ?? null,
        points: s.values.map(([t, v]) => [t, Number(v)]),
      }));
    return { series: [...pack('utilization', util), ...pack('power', power)] };
  }
}

/**
 * A request's cost names the requests it shared each GPU window with; a scoped caller keeps those
 * of its own tenant and learns only how many belonged to others.
 */
export function redactSharing(allocation: Record<string, unknown>, tenant: string): Record<string, unknown> {
  const windows = Array.isArray(allocation.windows) ? (allocation.windows as unknown[]) : [];
  return {
    ...allocation,
    windows: windows.map((w) => {
      if (typeof w !== 'object' || w === null || !Array.isArray((w as { sharedWith?: unknown }).sharedWith)) return w;
      const shared = (w as { sharedWith: unknown[] }).sharedWith;
      const own = shared.filter(
        (x) => typeof x === 'object' && x !== null && (x as { tenant?: unknown }).tenant === tenant,
      );
      return { ...w, sharedWith: own, sharedWithOtherTenants: shared.length - own.length };
    }),
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
