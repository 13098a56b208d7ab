import { readdirSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { runTestFile, type TestFileReport } from './test-runner';

const dir = path.join(FIXTURES_DIR, 'promql-tests');

describe("Prometheus's own promqltest files", () => {
  let reports: TestFileReport[];

  beforeAll(async () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.test'))
      .sort();
    reports = [];
    for (const f of files) reports.push(await runTestFile(path.join(dir, f)));
    const lines = reports.map((r) => `${r.file}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
    const failures = reports.flatMap((r) =>
      r.cases.filter((c) => c.status === 'failed').map((c) => `  ${r.file}:${c.line} ${c.query} — ${c.reason}`),
    );
    console.log([...lines, ...failures].join('\n'));
  }, 120_000);

  it('runs every fixture file', () => {
    expect(reports.map((r) => r.file)).toEqual(
      expect.arrayContaining(['aggregators.test', 'functions.test', 'staleness.test', 'subquery.test']),
    );
  });

  it('passes at least 95 % of the eval commands it does not skip', () => {
    const passed = reports.reduce((n, r) => n + r.passed, 0);
    const failed = reports.reduce((n, r) => n + r.failed, 0);
    expect(passed + failed).toBeGreaterThan(500);
    expect(passed / (passed + failed)).toBeGreaterThanOrEqual(0.95);
  });

  it('skips only with a named reason', () => {
    const skipped = reports.flatMap((r) => r.cases.filter((c) => c.status === 'skipped'));
    expect(skipped.every((c) => typeof c.reason === 'string' && c.reason.length > 0)).toBe(true);
  });

  it('runs the core files without skipping anything', () => {
    for (const file of ['collision.test', 'staleness.test', 'literals.test', 'type_and_unit.test']) {
      expect(reports.find((r) => r.file === file)?.skipped).toBe(0);
    }
  });
});
