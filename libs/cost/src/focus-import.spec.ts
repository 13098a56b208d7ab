import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { importFocusFile, parseFocusTime, readFocusCsv, type InvoiceLine, type InvoiceReject } from './focus-import';

const BILLING = path.join(FIXTURES_DIR, 'billing');

function csvFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) return csvFiles(p);
      return name.endsWith('.csv') ? [p] : [];
    });
}

/** Data rows counted without a CSV parser: none of these files has a newline inside a field. */
function dataRows(file: string): number {
  return (
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length - 1
  );
}

async function collect(text: string): Promise<{ lines: InvoiceLine[]; rejects: InvoiceReject[] }> {
  const lines: InvoiceLine[] = [];
  const rejects: InvoiceReject[] = [];
  for await (const row of readFocusCsv(Readable.from([text]), { defaultCurrency: 'USD' })) {
    if (row.ok) lines.push(row.line);
    else rejects.push(row.reject);
  }
  return { lines, rejects };
}

describe('FOCUS CSV import', () => {
  const files = [
    ...csvFiles(path.join(BILLING, 'focus-sample-data')),
    ...csvFiles(path.join(BILLING, 'focus-spec-examples')),
  ];

  it('finds every FOCUS fixture (1 provider export, 26 specification examples)', () => {
    expect(files).toHaveLength(27);
  });

  // The only bad rows in the fixtures: a ChargePeriodEnd at hour 30 in two specification examples.
  const EXPECTED_REJECTS: Record<string, Array<[number, string]>> = {
    'commitment_discount_purchase_scenario_2.csv': [
      [4, 'ChargePeriodEnd: not a valid date/time: "2023-02-01T30:00:00Z"'],
    ],
    'commitment_discount_purchase_scenario_3.csv': [
      [5, 'ChargePeriodEnd: not a valid date/time: "2023-02-01T30:00:00Z"'],
    ],
  };

  it.each(files.map((f) => [path.relative(BILLING, f), f]))(
    '%s: every row imported or reported, nothing lost',
    async (_name, file) => {
      const { lines, rejects } = await importFocusFile(file, { defaultCurrency: 'USD' });
      expect(lines.length + rejects.length).toBe(dataRows(file));
      expect(rejects.map((r) => [r.lineNo, r.reason])).toEqual(EXPECTED_REJECTS[path.basename(file)] ?? []);
      expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
    },
  );

  it('reads the provider export exactly: 1000 rows, Σ BilledCost 20.52022672899 USD', async () => {
    const { lines, rejects } = await importFocusFile(
      path.join(BILLING, 'focus-sample-data/FOCUS-1.0.focus_sample.csv'),
    );
    expect(rejects).toEqual([]);
    expect(lines).toHaveLength(1000);
    expect(lines.reduce((s, l) => s + l.billedCost, 0n)).toBe(20_520_226_728_990n);
    const first = lines[0] as InvoiceLine;
    expect(first.billedCost).toBe(800_000n); // 0.00000080000
    expect(first.currency).toBe('USD');
    expect(first.chargePeriodStartMs).toBe(Date.parse('2024-09-18T22:00:00Z'));
    expect(first.resourceId).toBe('arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12');
    expect(lines.filter((l) => l.resourceId !== null)).toHaveLength(925);
    expect(lines.filter((l) => l.chargeCategory === 'Usage')).toHaveLength(997);
    expect(lines[1]?.tags).toEqual({ application: 'BrightLensMatrix', environment: 'dev', business_unit: 'ViennaAI' });
  });

  it('reads the specification style: "$10,000.00 ", US dates, BOM, null, identical rows kept apart', async () => {
    const a1 = await importFocusFile(
      path.join(BILLING, 'focus-spec-examples/saas_examples/simple_agreements/simple_saas_agreements_a1.csv'),
    );
    expect(a1.lines[0]?.billedCost).toBe(10_000n * 10n ** 12n);
    expect(a1.lines[0]?.chargePeriodEndMs).toBe(Date.parse('2026-04-01T00:00:00Z'));
    const vc = await importFocusFile(
      path.join(BILLING, 'focus-spec-examples/saas_examples/virtual_currency_pricing_model_b1.csv'),
    );
    expect(vc.lines[0]?.billedCost).toBe(100_000n * 10n ** 12n);
    expect(vc.lines[0]?.effectiveCost).toBe(0n);
    const two = await importFocusFile(
      path.join(
        BILLING,
        'focus-spec-examples/commitment_discount_flexibility/one_hundred_percent_utilization_with_commitment_discount_flexibility_with_2_resources.csv',
      ),
      { defaultCurrency: 'USD' },
    );
    expect(two.lines.map((l) => l.lineNo)).toEqual([2, 4, 6]);
    expect(two.lines[1]?.id).not.toBe(two.lines[2]?.id);
    expect(two.lines[1]?.id.replace(/-\d+$/, '')).toBe(two.lines[2]?.id.replace(/-\d+$/, ''));
  });

  it('without BillingCurrency and without a default, each row is reported', async () => {
    // The specification's examples leave BillingCurrency out.
    const f = path.join(
      BILLING,
      'focus-spec-examples/commitment_discount_scenarios/commitment_discount_usage_scenario_3.csv',
    );
    const { lines, rejects } = await importFocusFile(f);
    expect(lines).toEqual([]);
    expect(rejects.map((r) => [r.lineNo, r.reason])).toEqual([
      [2, 'BillingCurrency: required (no column and no default currency)'],
      [3, 'BillingCurrency: required (no column and no default currency)'],
    ]);
  });

  it('reports each bad row with its line and reason while the good rows go through', async () => {
    const csv = [
      'BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,Tags',
      '1.50,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Usage,i-1,',
      'abc,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Usage,i-1,',
      '2.00,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Refund,i-2,',
      '3.00,USD,2026-01-01T02:00:00Z,2026-01-01T01:00:00Z,Usage,i-2,',
      '4.00,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Usage',
      '5.00,usd,2026-13-01T00:00:00Z,2026-01-01T01:00:00Z,Usage,i-3,{not json}',
      '6.00,USD,2026-01-01 00:00:00,2026-01-01 01:00:00,Credit,i-3,"{""team"": ""ml""}"',
      '',
      '0.0000000000001,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Usage,i-4,',
      '7.25,USD,1/2/26,1/3/26,Usage,NULL,',
    ].join('\n');
    const { lines, rejects } = await collect(csv);
    expect(lines.map((l) => [l.lineNo, l.billedCost, l.resourceId])).toEqual([
      [2, 1_500_000_000_000n, 'i-1'],
      [8, 6_000_000_000_000n, 'i-3'],
      [11, 7_250_000_000_000n, null],
    ]);
    expect(lines[1]?.tags).toEqual({ team: 'ml' });
    expect(rejects.map((r) => [r.lineNo, r.reason])).toEqual([
      [3, 'BilledCost: not a decimal amount with at most 12 decimals: "abc"'],
      [4, 'ChargeCategory: expected one of Usage, Purchase, Tax, Credit, Adjustment, got "Refund"'],
      [5, 'ChargePeriodEnd: before ChargePeriodStart'],
      [6, 'expected 7 fields, found 5'],
      [
        7,
        'BillingCurrency: not a currency code: "usd"; ChargePeriodStart: not a valid date/time: "2026-13-01T00:00:00Z"; Tags: not a JSON object',
      ],
      [10, 'BilledCost: not a decimal amount with at most 12 decimals: "0.0000000000001"'],
    ]);
  });

  it('refuses a row holding a NUL character (PostgreSQL cannot store it) and keeps it with U+FFFD; a header with one is refused', async () => {
    const head = 'BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId';
    const { lines, rejects } = await collect(
      [
        head,
        '1.50,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Usage,i-\u00001',
        '2.00,USD,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,Usage,i-2',
      ].join('\n'),
    );
    expect(lines.map((l) => [l.lineNo, l.resourceId])).toEqual([[3, 'i-2']]);
    expect(rejects.map((r) => [r.lineNo, r.reason, r.raw.ResourceId])).toEqual([
      [2, 'ResourceId: holds a NUL character', 'i-\ufffd1'],
    ]);
    await expect(
      collect(`${head.replace(',BillingCurrency', ',\u0000BillingCurrency')}\n1,USD,a,b,Usage,i\n`),
    ).rejects.toThrow(/line 1: column 2 holds a NUL character/);
  });

  it('refuses a file without the FOCUS columns it needs', async () => {
    await expect(collect('Cost,Start\n1,2\n')).rejects.toThrow(
      /missing FOCUS column\(s\) BilledCost, ChargePeriodStart, ChargePeriodEnd, ChargeCategory/,
    );
  });

  it('parses FOCUS times strictly', () => {
    expect(parseFocusTime('2024-09-01 00:00:00')).toBe(Date.parse('2024-09-01T00:00:00Z'));
    expect(parseFocusTime('2024-09-01T02:00:00+02:00')).toBe(Date.parse('2024-09-01T00:00:00Z'));
    expect(parseFocusTime('4/1/25')).toBe(Date.parse('2025-04-01T00:00:00Z'));
    expect(parseFocusTime('2/30/25')).toBeUndefined();
    expect(parseFocusTime('2023-02-01T30:00:00Z')).toBeUndefined();
  });
});
