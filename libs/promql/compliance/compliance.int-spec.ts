import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool } from '@arcwatch/storage';
import { FIXTURES_DIR, createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { loadCorpus } from './corpus';
import { runCompliance, type ComplianceReport } from './compliance-runner';
import { prepareSystems, type ComplianceSystems } from './compliance-setup';
import { KNOWN_DIFFERENCES } from './known-differences';
import { PROMETHEUS_BIN, PROMTOOL_BIN } from './prometheus-reference';

/**
 * The compliance corpus against a real Prometheus 2.42 (infra/peers.sh installs it) over 30
 * minutes of demo data; libs/promql/compliance/run.ts is the full two-hour run. Every query
 * outside the named known differences must agree: the pass share required is 100 %.
 */
const REQUIRED_PASS_SHARE = 1;

describe('PromQL compliance against Prometheus 2.42', () => {
  let db: TestDatabase;
  let pool: Pool;
  let workDir: string;
  let sys: ComplianceSystems | undefined;

  beforeAll(async () => {
    for (const bin of [PROMETHEUS_BIN, PROMTOOL_BIN]) {
      if (!existsSync(bin)) throw new Error(`${bin} is missing: run infra/peers.sh`);
    }
    db = await createTestDatabase();
    pool = createPool(db.url, { max: 6 });
    pool.on('error', () => undefined); // dropping the database ends idle connections
    workDir = mkdtempSync(path.join(tmpdir(), 'promql-compliance-'));
    sys = await prepareSystems({ pool, workDir, durationMs: 30 * 60_000 });
  }, 60_000);

  afterAll(async () => {
    await sys?.reference.stop();
    await pool?.end();
    await db?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('answers every corpus query as the reference does, apart from the named version differences', async () => {
    const cases = loadCorpus(FIXTURES_DIR);
    expect(cases).toHaveLength(539);
    // Two of the three instant times (after the counter reset, and the end) and a 20 s range
    // step keep the run short: under jest, sorting windows (quantile_over_time) is far slower
    // than under plain node. The points stay 3 s off the 10 s grid (compliance-setup.ts).
    const times = sys!.plan.instantTimesMs;
    const plan = {
      instantTimesMs: [times[0]!, times[times.length - 1]!],
      range: { ...sys!.plan.range, stepMs: 20_000 },
    };
    const report: ComplianceReport = await runCompliance(cases, plan, sys!.reference, sys!.store);
    const failures = report.cases.filter((c) => c.status === 'fail').map((c) => `${c.query}: ${c.detail}`);
    expect(failures).toEqual([]);
    expect(report.excluded).toBe(KNOWN_DIFFERENCES.size);
    expect(report.pass).toBe(cases.length - KNOWN_DIFFERENCES.size);
    expect(report.passShare).toBeGreaterThanOrEqual(REQUIRED_PASS_SHARE);
    // most queries must see data, or the comparison proves little
    expect(report.passEmpty).toBeLessThan(60);
  }, 90_000);

  it('names only queries that are in the corpus as known differences', () => {
    const queries = new Set(loadCorpus(FIXTURES_DIR).map((c) => c.query));
    expect([...KNOWN_DIFFERENCES.keys()].filter((q) => !queries.has(q))).toEqual([]);
  });
});
