import { Controller, Get, Query } from '@nestjs/common';
import { CurrentPrincipal, effectiveTenant, requireUnscoped, type Principal } from '@arcwatch/access';
import { formatPromValue } from '@arcwatch/promql';
import { formatModelDuration } from '@arcwatch/alerting';
import { activeAlerts } from '@arcwatch/alerting';
import { DetectorsService } from '../detectors/detectors.service';
import { RulesService } from './rules.service';

const iso = (ms: number | null): string => (ms === null ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString());

/**
 * Prometheus-compatible GET /api/v1/rules and /api/v1/alerts (Grafana and the Prometheus UI read
 * them). /alerts takes `?tenant=` (an ArcWatch addition): only alerts whose `tenant` label is that
 * tenant; a scoped token always gets its own tenant's and never fleet-wide alerts (no tenant
 * label). /rules lists every rule with its alerts, across tenants: unscoped tokens only.
 */
@Controller('api/v1')
export class RulesController {
  constructor(
    private readonly rules: RulesService,
    private readonly detectors: DetectorsService,
  ) {}

  @Get('alerts')
  alerts(@CurrentPrincipal() p: Principal, @Query('tenant') tenant?: string): unknown {
    const only = effectiveTenant(p, tenant);
    const fromDetectors = this.detectors.alerts().flatMap((d) => activeAlerts(d.state));
    const all = [...this.rules.activeAlerts(), ...fromDetectors];
    const alerts = all
      .filter((a) => only === undefined || a.labels.tenant === only)
      .map((a) => ({
        labels: a.labels,
        annotations: a.annotations,
        state: a.state,
        activeAt: iso(a.activeAtMs),
        ...(a.keepFiringSinceMs !== null ? { keepFiringSince: iso(a.keepFiringSinceMs) } : {}),
        value: formatPromValue(a.value),
      }));
    return { status: 'success', data: { alerts } };
  }

  @Get('rules')
  list(@CurrentPrincipal() p: Principal): unknown {
    requireUnscoped(p, 'the rule list');
    const groups = this.rules.snapshot().map(({ group, evaluator }) => {
      const rules = group.rules.map((r, i) => {
        const h = evaluator.health[i];
        const common = {
          health: h.health,
          lastError: h.lastError || undefined,
          evaluationTime: h.evaluationDurationMs / 1000,
          lastEvaluation: iso(h.lastEvaluationMs),
        };
        if (r.kind === 'recording')
          return { type: 'recording', name: r.rule.record, query: r.rule.expr, labels: r.rule.labels, ...common };
        const alerts = Object.values(evaluator.alertStates[i].alerts).filter((a) => a.state !== 'inactive');
        const state = alerts.some((a) => a.state === 'firing') ? 'firing' : alerts.length > 0 ? 'pending' : 'inactive';
        return {
          type: 'alerting',
          state,
          name: r.rule.alert,
          query: r.rule.expr,
          duration: r.rule.forMs / 1000,
          keepFiringFor: r.rule.keepFiringForMs / 1000,
          labels: r.rule.labels,
          annotations: r.rule.annotations,
          alerts: alerts.map((a) => ({
            labels: a.labels,
            annotations: a.annotations,
            state: a.state,
            activeAt: iso(a.activeAtMs),
            value: formatPromValue(a.value),
          })),
          ...common,
        };
      });
      const last = Math.max(0, ...evaluator.health.map((h) => h.lastEvaluationMs ?? 0));
      return {
        name: group.name,
        file: group.file,
        interval: group.intervalMs / 1000,
        limit: group.limit,
        rules,
        evaluationTime: evaluator.health.reduce((s, h) => s + h.evaluationDurationMs, 0) / 1000,
        lastEvaluation: iso(last || null),
        intervalText: formatModelDuration(group.intervalMs),
      };
    });
    return { status: 'success', data: { groups } };
  }
}
