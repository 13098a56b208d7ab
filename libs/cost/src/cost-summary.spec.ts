import { costAllocatedId, costAllocatedV1Schema } from '@arcwatch/contracts';
import { allocate } from './allocation';
import { costRequestFromRecord, type CostRequest } from './cost-request';
import { summarizeCost } from './cost-summary';
import { T0, at, h100Inventory, h100Prices, record } from './testing/cost-fixtures';

function reqs(): CostRequest[] {
  return [
    record({ id: 'a1', tenant: 'acme', scheduled: 10, end: 90, prompt: 300, completion: 40 }),
    record({ id: 'a2', tenant: 'acme', scheduled: 20, end: 50, prompt: 10, completion: 5 }),
    record({ id: 'u1', tenant: 'unknown', scheduled: 100, end: 110, prompt: 7, completion: 3 }),
  ].map((r) => {
    const c = costRequestFromRecord(r);
    if (!c.ok) throw new Error(c.reason);
    return c.request;
  });
}

describe('cost.allocated records from allocation lines', () => {
  const requests = reqs();
  const windows = allocate(
    requests,
    h100Inventory(),
    h100Prices(),
    { windowMs: 60_000, method: 'time-share' },
    { fromMs: T0, toMs: T0 + 120_000 },
  ).windows;
  const records = summarizeCost(windows, new Map(requests.map((r) => [r.requestId, r])), 60_000);

  it('one record per period and key, amounts adding up to the windows, valid against the contract', () => {
    expect(records.map((r) => [r.key.periodStart, r.key.tenant, r.key.kind])).toEqual([
      [at(0), 'acme', 'requests'],
      [at(0), 'platform', 'idle'],
      [at(60), 'acme', 'requests'],
      [at(60), 'platform', 'idle'],
      [at(60), 'unattributed', 'unattributed'],
    ]);
    for (const [i, w] of windows.entries()) {
      const inPeriod = records.filter((r) => r.key.periodStart === at(i * 60)).reduce((s, r) => s + r.amountMicro, 0n);
      expect(inPeriod).toBe(w.costMicro);
    }
    for (const r of records) expect(costAllocatedV1Schema.safeParse(r.data).success).toBe(true);
  });

  it('counts tokens once, in the window where the request ended; requests in every window they ran', () => {
    const acme0 = records.find((r) => r.key.tenant === 'acme' && r.key.periodStart === at(0));
    const acme1 = records.find((r) => r.key.tenant === 'acme' && r.key.periodStart === at(60));
    expect([acme0?.data.requestCount, acme0?.data.inputTokens, acme0?.data.outputTokens]).toEqual([2, 10, 5]);
    expect([acme1?.data.requestCount, acme1?.data.inputTokens, acme1?.data.outputTokens]).toEqual([1, 300, 40]);
  });

  it('ids depend on the key and method only: the same allocation gives the same ids', () => {
    const again = summarizeCost(windows, new Map(requests.map((r) => [r.requestId, r])), 60_000);
    expect(again.map((r) => r.id)).toEqual(records.map((r) => r.id));
    expect(records[0]?.id).toBe(costAllocatedId(records[0]!.key, 'time-share'));
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });
});
