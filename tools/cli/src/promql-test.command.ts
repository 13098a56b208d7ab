/**
 * `arcwatch promql test FILE…`: runs promqltest scripts against the ArcWatch PromQL engine.
 * One line per file, failure details with `--verbose`, a totals line, exit 1 on any failure.
 */
import { runTestFile, type TestFileReport } from '@arcwatch/promql';
import type { Command } from './main';

export function formatReport(r: TestFileReport, verbose: boolean): string[] {
  const lines = [`${r.file}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`];
  if (verbose) {
    for (const c of r.cases) {
      if (c.status === 'failed') lines.push(`  FAIL ${r.file}:${c.line}: ${c.query}\n       ${c.reason}`);
      else if (c.status === 'skipped') lines.push(`  SKIP ${r.file}:${c.line}: ${c.query} (${c.reason})`);
    }
  }
  return lines;
}

export const command: Command = async (args, io) => {
  const verbose = args.includes('--verbose') || args.includes('-v');
  const files = args.filter((a) => !a.startsWith('-'));
  if (files.length === 0) {
    io.err('usage: arcwatch promql test [--verbose] FILE…');
    return 2;
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of files) {
    let report: TestFileReport;
    try {
      report = await runTestFile(file);
    } catch (err) {
      io.err(`${file}: ${(err as Error).message}`);
      failed++;
      continue;
    }
    for (const line of formatReport(report, verbose)) io.out(line);
    passed += report.passed;
    failed += report.failed;
    skipped += report.skipped;
  }
  io.out(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 ? 1 : 0;
};
