/**
 * The full PromQL compliance run: two hours of demo data in a real Prometheus 2.42 and in
 * ArcWatch's SampleStore, every expanded corpus query compared on both.
 *
 *   node tools/register.js libs/promql/compliance/run.ts [--minutes 120] [--json report.json] [--all]
 *
 * Prints every failure (and with --all every case) and the totals; exits 1 on any failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPool } from '@arcwatch/storage';
import { FIXTURES_DIR, createTestDatabase } from '@arcwatch/testing';
import { loadCorpus } from './corpus';
import { runCompliance } from './compliance-runner';
import { prepareSystems } from './compliance-setup';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '120' },
      json: { type: 'string' },
      all: { type: 'boolean', default: false },
    },
  });
  const minutes = Number(values.minutes);
  if (!(minutes >= 30)) throw new Error('--minutes must be at least 30');
  const workDir = mkdtempSync(path.join(tmpdir(), 'promql-compliance-'));
  const db = await createTestDatabase();
  const pool = createPool(db.url, { max: 8 });
  // dropping the database at the end ends idle connections; that is expected
  pool.on('error', () => undefined);
  const started = Date.now();
  try {
    const sys = await prepareSystems({ pool, workDir, durationMs: minutes * 60_000 });
    process.stdout.write(
      `loaded ${sys.series.length} series, ${sys.samples} samples into both (${Date.now() - started} ms)\n`,
    );
    try {
      const cases = loadCorpus(FIXTURES_DIR);
      const report = await runCompliance(cases, sys.plan, sys.reference, sys.store);
      for (const c of report.cases) {
        if (c.status === 'fail' || values.all)
          process.stdout.write(`${c.status.toUpperCase()} ${c.query}${c.detail ? `\n    ${c.detail}` : ''}\n`);
      }
      if (values.json) writeFileSync(values.json, JSON.stringify({ minutes, plan: sys.plan, ...report }, null, 2));
      const share = (report.passShare * 100).toFixed(2);
      process.stdout.write(
        `${report.passEmpty} of the passing queries answered no series (or the expected error) everywhere\n`,
      );
      process.stdout.write(
        `${cases.length} queries: ${report.pass} passed, ${report.fail} failed, ${report.excluded} excluded (known version differences); ${share} % of the compared queries pass (${Date.now() - started} ms)\n`,
      );
      return report.fail === 0 ? 0 : 1;
    } finally {
      await sys.reference.stop();
    }
  } finally {
    await pool.end();
    await db.drop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
