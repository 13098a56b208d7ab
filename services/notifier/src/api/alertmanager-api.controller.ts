import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { matchesLabels, parseMatchers, silenceState, type Matcher, type Silence } from '@arcwatch/alertmanager';
import {
  AccessError,
  CurrentPrincipal,
  effectiveTenant,
  requireUnscoped,
  Roles,
  type Principal,
} from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { z } from 'zod';
import type { StoredAlert } from '../alerts/alerts.repository';
import { AlertsService } from '../alerts/alerts.service';
import { goTime } from '../delivery/payloads';
import { DispatchService } from '../dispatch/dispatch.service';
import { NotifierError } from '../errors';
import { ROUTING_CONFIG, type RoutingConfig } from '../routing/routing-config';
import { SilencesService, toApiMatcher, type PostableSilence } from '../silences/silences.service';
import { alertVisible, assertSilenceInScope, silenceVisible } from './tenant-scope';

const postableSilenceSchema = z.object({
  id: z.string().optional(),
  matchers: z
    .array(z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().optional() }))
    .min(1),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
});

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const flag = (v: string | undefined, dflt: boolean): boolean => (v === undefined ? dflt : v === 'true');

function filterMatchers(filter: string | string[] | undefined): Matcher[] {
  try {
    return asList(filter).flatMap((f) => parseMatchers(f, 'fallback'));
  } catch (e) {
    throw new NotifierError('ALERTS_INVALID', `bad matcher format: ${(e as Error).message}`);
  }
}

const STARTED = new Date();

/** The alerts a principal may see: `?tenant=` (an ArcWatch addition) or the scoped token's tenant. */
function tenantFilter(p: Principal, q: Record<string, string | string[] | undefined>) {
  const only = effectiveTenant(p, typeof q.tenant === 'string' ? q.tenant : undefined);
  return (labels: Record<string, string>) => (only === undefined || labels.tenant === only) && alertVisible(p, labels);
}

/**
 * The part of Alertmanager's API v2 that Prometheus, amtool and Grafana's Alertmanager data source
 * use: alerts (post, list, groups), silences (create, list, get, expire), status and receivers.
 * Reading needs a viewer token, posting alerts and silencing an operator (Prometheus sends its
 * token with `alerting.alertmanagers[].authorization`); a scoped token is kept to its tenant.
 */
@Controller('api/v2')
export class AlertmanagerApiController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly silences: SilencesService,
    private readonly dispatch: DispatchService,
    @Inject(ROUTING_CONFIG) private readonly routing: RoutingConfig,
    @InjectClock() private readonly clock: Clock,
  ) {}

  @Post('alerts')
  @HttpCode(200)
  @Roles('operator')
  async postAlerts(@Body() body: unknown, @CurrentPrincipal() p: Principal): Promise<string> {
    requireUnscoped(p, 'posting alerts');
    await this.alerts.post(body);
    return '';
  }

  private gettable(a: StoredAlert, now: Date, pool = this.dispatch.inhibitionPool(now)): Record<string, unknown> {
    const st = this.dispatch.status(a, now, pool);
    return {
      annotations: a.annotations,
      endsAt: goTime(a.endsAt),
      fingerprint: a.fingerprint,
      receivers: this.dispatch.receiversOf(a.labels).map((name) => ({ name })),
      startsAt: goTime(a.startsAt),
      status: { inhibitedBy: st.inhibitedBy, silencedBy: st.silencedBy, state: st.state },
      updatedAt: goTime(a.updatedAt),
      generatorURL: a.generatorURL,
      labels: a.labels,
    };
  }

  @Get('alerts')
  async getAlerts(
    @Query() q: Record<string, string | string[] | undefined>,
    @CurrentPrincipal() p: Principal,
  ): Promise<Record<string, unknown>[]> {
    const visible = tenantFilter(p, q);
    const now = new Date(this.clock.now());
    await this.silences.load();
    const matchers = filterMatchers(q.filter);
    const receiver =
      typeof q.receiver === 'string' && q.receiver !== '' ? new RegExp(`^(?:${q.receiver})$`) : undefined;
    const out: Record<string, unknown>[] = [];
    const stored = await this.alerts.all();
    const pool = this.dispatch.inhibitionPool(now, stored);
    for (const a of stored) {
      if (a.endsAt !== null && a.endsAt.getTime() <= now.getTime()) continue;
      if (!matchesLabels(matchers, a.labels) || !visible(a.labels)) continue;
      const st = this.dispatch.status(a, now, pool);
      if (!flag(q.silenced as string | undefined, true) && st.silencedBy.length > 0) continue;
      if (!flag(q.inhibited as string | undefined, true) && st.inhibitedBy.length > 0) continue;
      if (!flag(q.active as string | undefined, true) && st.state === 'active') continue;
      if (receiver && !this.dispatch.receiversOf(a.labels).some((r) => receiver.test(r))) continue;
      out.push(this.gettable(a, now, pool));
    }
    return out;
  }

  @Get('alerts/groups')
  async getGroups(
    @Query() q: Record<string, string | string[] | undefined>,
    @CurrentPrincipal() p: Principal,
  ): Promise<Record<string, unknown>[]> {
    const visible = tenantFilter(p, q);
    const now = new Date(this.clock.now());
    const matchers = filterMatchers(q.filter);
    const pool = this.dispatch.inhibitionPool(now, await this.alerts.all());
    return (await this.dispatch.groupsView())
      .map((g) => ({
        alerts: g.alerts
          .filter((a) => a.endsAt === null || a.endsAt.getTime() > now.getTime())
          .filter((a) => matchesLabels(matchers, a.labels) && visible(a.labels))
          .map((a) => this.gettable(a, now, pool)),
        labels: g.labels,
        receiver: { name: g.receiver },
      }))
      .filter((g) => g.alerts.length > 0);
  }

  private gettableSilence(s: Silence, now: Date): Record<string, unknown> {
    return {
      id: s.id,
      status: { state: silenceState(s, now) },
      updatedAt: goTime(s.updatedAt),
      comment: s.comment,
      createdBy: s.createdBy,
      endsAt: goTime(s.endsAt),
      matchers: (s.matcherSets[0] ?? []).map(toApiMatcher),
      startsAt: goTime(s.startsAt),
    };
  }

  @Get('silences')
  async getSilences(
    @Query() q: Record<string, string | string[] | undefined>,
    @CurrentPrincipal() p: Principal,
  ): Promise<Record<string, unknown>[]> {
    const now = new Date(this.clock.now());
    const matchers = filterMatchers(q.filter);
    const only = effectiveTenant(p, typeof q.tenant === 'string' ? q.tenant : undefined);
    const scope = only === undefined ? p : { tenant: only };
    return (await this.silences.list())
      .filter((s) => silenceVisible(scope, s))
      .filter((s) =>
        matchers.every((f) =>
          (s.matcherSets[0] ?? []).some((m) => m.name === f.name && matchesLabels([f], { [f.name]: m.value })),
        ),
      )
      .map((s) => this.gettableSilence(s, now));
  }

  @Post('silences')
  @HttpCode(200)
  @Roles('operator')
  async postSilence(@Body() body: unknown, @CurrentPrincipal() p: Principal): Promise<{ silenceID: string }> {
    const parsed = postableSilenceSchema.safeParse(body);
    if (!parsed.success)
      throw new NotifierError(
        'SILENCE_INVALID',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    assertSilenceInScope(p, parsed.data.matchers);
    // Updating a silence (an id) of another tenant is refused as if it did not exist.
    if (parsed.data.id && p.tenant !== null) await this.visibleSilence(parsed.data.id, p);
    return { silenceID: await this.silences.create(parsed.data as PostableSilence) };
  }

  @Get('silence/:id')
  async getSilence(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<Record<string, unknown>> {
    return this.gettableSilence(await this.visibleSilence(id, p), new Date(this.clock.now()));
  }

  private async visibleSilence(id: string, p: Principal): Promise<Silence> {
    const s = await this.silences.get(id);
    if (!silenceVisible(p, s)) throw new AccessError('NOT_FOUND', `silence ${id} not found`);
    return s;
  }

  @Delete('silence/:id')
  @HttpCode(200)
  @Roles('operator')
  async deleteSilence(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<string> {
    await this.visibleSilence(id, p);
    await this.silences.expire(id);
    return '';
  }

  /** The routing file as written: every tenant's receivers. */
  @Get('status')
  status(@CurrentPrincipal() p: Principal): Record<string, unknown> {
    requireUnscoped(p, 'the notifier configuration');
    return {
      cluster: { peers: [], status: 'disabled' },
      config: { original: this.routing.original },
      uptime: STARTED.toISOString(),
      versionInfo: {
        branch: 'main',
        buildDate: '',
        buildUser: 'arcwatch',
        goVersion: 'n/a',
        revision: '',
        version: '0.1.0-arcwatch',
      },
    };
  }

  @Get('receivers')
  receivers(@CurrentPrincipal() p: Principal): { name: string }[] {
    requireUnscoped(p, 'the receiver list');
    return this.routing.am.receivers.map((r) => ({ name: r.name }));
  }
}
