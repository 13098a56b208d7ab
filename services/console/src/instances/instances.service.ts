import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { FleetService } from '../fleet/fleet.service';
import { iso } from '../http/window';
import { UpstreamClient } from '../upstream/upstream.client';
import { ENGINE_QUERIES, buildEngines, statsWindowSchema, summarizeStats, type EngineField } from './instances';
import { ConsoleError } from '../errors';

/** Part of a page that another service could not provide: the page shows the rest. */
export interface Unavailable {
  unavailable: { service: string; message: string };
}

export function unavailable(err: unknown, fallbackService: string): Unavailable {
  if (err instanceof ConsoleError && err.code === 'UPSTREAM_UNAVAILABLE')
    return { unavailable: { service: String(err.details?.service ?? fallbackService), message: err.message } };
  throw err;
}

@Injectable()
export class InstancesService {
  constructor(
    private readonly upstream: UpstreamClient,
    private readonly fleet: FleetService,
  ) {}

  /** Engines (collector; shared infrastructure) and per-tenant request statistics (tracing; scoped). */
  async instances(fromMs: number, toMs: number, tenant: string | undefined, model: string | undefined) {
    const engines = this.engines(toMs).catch((err: unknown) => unavailable(err, 'collector'));
    const stats = this.stats(fromMs, toMs, tenant, model).catch((err: unknown) => unavailable(err, 'tracing'));
    return { from: iso(fromMs), to: iso(toMs), tenant: tenant ?? null, engines: await engines, models: await stats };
  }

  private async engines(atMs: number) {
    const fields = Object.keys(ENGINE_QUERIES) as EngineField[];
    const values = await Promise.all(fields.map((f) => this.fleet.instant(ENGINE_QUERIES[f], atMs)));
    return {
      items: buildEngines(
        Object.fromEntries(fields.map((f, i) => [f, values[i]])) as Record<EngineField, (typeof values)[number]>,
      ),
    };
  }

  private async stats(fromMs: number, toMs: number, tenant: string | undefined, model: string | undefined) {
    const body = await this.upstream.get<unknown>('tracing', 'api/v1/requests/stats', {
      step: '1m',
      from: iso(fromMs),
      to: iso(toMs),
      tenant,
      model,
    });
    const p = z.array(statsWindowSchema).safeParse(body);
    if (!p.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'tracing: unexpected statistics body', {
        details: { service: 'tracing' },
        expose: true,
      });
    // Defence in depth: a scoped caller never gets another tenant's windows, whatever tracing sends.
    const windows = tenant === undefined ? p.data : p.data.filter((x) => x.tenant === tenant);
    const series = windows.map((x) => ({
      start: x.start,
      model: x.model,
      tenant: x.tenant,
      requests: Object.values(x.requests).reduce((a, b) => a + b, 0),
      e2e: x.latencySeconds.e2e ?? null,
      ttft: x.latencySeconds.ttft ?? null,
      tpot: x.latencySeconds.tpot ?? null,
    }));
    return { items: summarizeStats(windows, (toMs - fromMs) / 1000), minutes: series };
  }
}
