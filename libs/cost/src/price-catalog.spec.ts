import path from 'node:path';
import { ConfigFileError } from '@arcwatch/config-files';
import { REPO_ROOT } from '@arcwatch/testing';
import { CostError } from './money';
import { loadPriceCatalog, parsePriceCatalog } from './price-catalog';

const JAN = Date.parse('2026-01-15T00:00:00Z');

function issuesOf(text: string): string[] {
  try {
    parsePriceCatalog(text, 'prices.yaml');
  } catch (err) {
    if (err instanceof ConfigFileError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('price catalog', () => {
  it('loads the seed catalog with AWS on-demand and spot prices per GPU-hour', () => {
    const c = loadPriceCatalog(path.join(REPO_ROOT, 'infra/billing/prices.yaml'));
    // p5.48xlarge 98.32 USD/h over 8 H100 = 12.29 USD per GPU-hour.
    const h100 = c.lookup({ gpuModel: 'H100', provider: 'aws', region: 'us-east-1', pricingKind: 'on-demand' }, JAN);
    expect(h100.microPerGpuHour).toEqual({ num: 12_290_000n, den: 1n });
    expect(h100.currency).toBe('USD');
    // p5en.48xlarge 84.8 USD/h over 8 H200 = 10.6.
    expect(c.lookup({ gpuModel: 'H200', region: 'us-west-2', pricingKind: 'on-demand' }, JAN).microPerGpuHour).toEqual({
      num: 10_600_000n,
      den: 1n,
    });
    // Spot, one zone: 30.326 USD/h over 8 = 3.79075.
    expect(c.lookup({ gpuModel: 'H100', zone: 'use1-az1', pricingKind: 'spot' }, JAN).microPerGpuHour).toEqual({
      num: 3_790_750n,
      den: 1n,
    });
    // A p3.2xlarge holds one V100 at 3.06.
    expect(
      c.lookup({ gpuModel: 'V100', instanceType: 'p3.2xlarge', region: 'us-east-1', pricingKind: 'on-demand' }, JAN)
        .microPerGpuHour,
    ).toEqual({
      num: 3_060_000n,
      den: 1n,
    });
  });

  it('amortises an on-prem purchase over months plus power, exactly', () => {
    const c = parsePriceCatalog(
      `prices:
  - gpuModel: H100
    provider: on-prem
    pricingKind: on-prem
    effectiveFrom: "2025-01-01T00:00:00Z"
    currency: EUR
    amortised: { purchasePrice: "300000", months: 36, gpus: 8, powerKw: "10.2", pricePerKwh: "0.12" }
`,
      'p.yaml',
    );
    // 300000 / (36 · 730) / 8 + 10.2 · 0.12 / 8 = 1.426940… + 0.153 per GPU-hour.
    // = 300000/210240 + 1.224/8 → micro: 300000e6/210240 + 153000 = 1_426_940.639… + 153_000.
    const r = c.lookup({ gpuModel: 'H100' }, JAN).microPerGpuHour;
    expect(r.num * 210_240n).toBe((300_000n * 1_000_000n + 153_000n * 210_240n) * r.den);
    expect(c.lookup({ gpuModel: 'H100' }, JAN).currency).toBe('EUR');
  });

  it('looks prices up by time: a later entry takes over at its effectiveFrom', () => {
    const c = parsePriceCatalog(
      `prices:
  - { gpuModel: A100, provider: x, pricingKind: reserved, effectiveFrom: "2026-01-01T00:00:00Z", currency: USD, perGpuHour: "2.00" }
  - { gpuModel: A100, provider: x, pricingKind: reserved, effectiveFrom: "2026-02-01T00:00:00Z", effectiveTo: "2026-03-01T00:00:00Z", currency: USD, perGpuHour: "1.50" }
`,
      'p.yaml',
    );
    const sel = { gpuModel: 'A100' };
    expect(c.lookup(sel, Date.parse('2026-01-31T23:59:59Z')).perGpuHour).toBe('2.00');
    expect(c.lookup(sel, Date.parse('2026-02-01T00:00:00Z')).perGpuHour).toBe('1.50');
    expect(() => c.lookup(sel, Date.parse('2026-03-01T00:00:00Z'))).toThrow(CostError);
    expect(() => c.lookup(sel, Date.parse('2025-12-31T00:00:00Z'))).toThrow(/no price for gpuModel=A100/);
    const pieces = c.pieces(sel, Date.parse('2026-01-31T23:00:00Z'), Date.parse('2026-02-01T01:00:00Z'));
    expect(pieces.map((p) => [new Date(p.fromMs).toISOString(), p.entry.perGpuHour])).toEqual([
      ['2026-01-31T23:00:00.000Z', '2.00'],
      ['2026-02-01T00:00:00.000Z', '1.50'],
    ]);
  });

  it('refuses a selector that matches two series', () => {
    const c = loadPriceCatalog(path.join(REPO_ROOT, 'infra/billing/prices.yaml'));
    expect(() => c.lookup({ gpuModel: 'H100' }, JAN)).toThrow(expect.objectContaining({ code: 'PRICE_AMBIGUOUS' }));
  });

  it('reports file:line:column for bad entries', () => {
    expect(
      issuesOf(`prices:
  - gpuModel: H100
    provider: aws
    pricingKind: cheap
    effectiveFrom: "2026-01-01T00:00:00Z"
    currency: usd
    perGpuHour: "1.2.3"
`),
    ).toEqual([
      'prices.yaml:4:18: prices[0].pricingKind: Invalid option: expected one of "on-demand"|"reserved"|"spot"|"on-prem"',
      'prices.yaml:6:15: prices[0].currency: expected an ISO 4217 currency code, e.g. USD',
      'prices.yaml:7:17: prices[0].perGpuHour: expected a non-negative decimal string, e.g. "12.29"',
    ]);
    expect(
      issuesOf(`prices:
  - { gpuModel: H100, provider: aws, pricingKind: spot, effectiveFrom: "2026-01-01T00:00:00Z", currency: USD, perInstanceHour: "9" }
  - { gpuModel: H100, provider: aws, pricingKind: spot, effectiveFrom: "2026-01-01T00:00:00Z", currency: USD, perGpuHour: "1", perInstance: 3 }
`),
    ).toEqual([
      'prices.yaml:2:5: prices[0].gpusPerInstance: required with perInstanceHour',
      'prices.yaml:3:128: prices[1].perInstance: unknown field',
    ]);
    expect(
      issuesOf(`prices:
  - { gpuModel: H100, provider: aws, pricingKind: spot, effectiveFrom: "2026-01-01T00:00:00Z", currency: USD, perGpuHour: "2" }
  - { gpuModel: H100, provider: aws, pricingKind: spot, effectiveFrom: "2026-01-01T00:00:00Z", currency: USD, perGpuHour: "1" }
`),
    ).toEqual(['prices.yaml:3:72: prices[1].effectiveFrom: same series and effectiveFrom as prices[0]']);
  });
});
