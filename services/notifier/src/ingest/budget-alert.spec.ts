import { alertFingerprint } from '@arcwatch/contracts';
import { budgetAlert } from './budget.consumer';

describe('a budget gone over, as an alert', () => {
  const exceeded = {
    budgetId: 'acme-daily',
    tenant: 'acme',
    team: null,
    project: null,
    period: 'day' as const,
    periodStart: '2026-01-05T00:00:00.000Z',
    periodEnd: '2026-01-06T00:00:00.000Z',
    unit: 'money' as const,
    currency: 'USD',
    limit: '0.50',
    spent: '0.512345',
    exceededAt: '2026-01-05T10:11:12.000Z',
  };

  it('fires BudgetExceeded for the tenant, from when the spend went over', () => {
    const a = budgetAlert(exceeded);
    expect(a.labels).toEqual({
      alertname: 'BudgetExceeded',
      severity: 'P2',
      tenant: 'acme',
      budget: 'acme-daily',
      period: 'day',
      period_start: '2026-01-05T00:00:00.000Z',
    });
    // Firing until the day is over: the spend starts again then, and the alert resolves by itself.
    expect([a.status, a.startsAt, a.endsAt, a.fingerprint]).toEqual([
      'firing',
      '2026-01-05T10:11:12.000Z',
      '2026-01-06T00:00:00.000Z',
      alertFingerprint(a.labels),
    ]);
    expect(a.annotations.summary).toBe('acme is over its day budget acme-daily: 0.512345 of 0.50 USD');
  });

  it('is the same alert for the same period and a new one the next day; team and project become labels', () => {
    const again = budgetAlert({ ...exceeded, spent: '0.9', exceededAt: '2026-01-05T11:00:00.000Z' });
    const nextDay = budgetAlert({ ...exceeded, periodStart: '2026-01-06T00:00:00.000Z' });
    expect(again.fingerprint).toBe(budgetAlert(exceeded).fingerprint);
    expect(nextDay.fingerprint).not.toBe(budgetAlert(exceeded).fingerprint);
    const scoped = budgetAlert({ ...exceeded, team: 'search', project: 'chat', unit: 'tokens', currency: null });
    expect(scoped.labels).toMatchObject({ budget_team: 'search', project: 'chat' });
    expect(scoped.annotations.summary).toBe('acme is over its day budget acme-daily: 0.512345 of 0.50 tokens');
  });
});
