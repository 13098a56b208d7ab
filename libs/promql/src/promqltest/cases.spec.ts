import { readdirSync } from 'node:fs';
import path from 'node:path';
import { runTestFile } from './test-runner';

const dir = path.join(__dirname, 'cases');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test'))
  .sort();

describe('our own promqltest scripts (cases/*.test)', () => {
  it('finds the scripts', () => {
    expect(files).toEqual(
      expect.arrayContaining(['operators.test', 'selectors.test', 'at-and-durations.test', 'limit.test']),
    );
  });

  it.each(files)('%s passes every eval without skipping', async (file) => {
    const report = await runTestFile(path.join(dir, file));
    const problems = report.cases
      .filter((c) => c.status !== 'passed')
      .map((c) => `${file}:${c.line} ${c.query} — ${c.status}: ${c.reason}`);
    expect(problems).toEqual([]);
    expect(report.passed).toBeGreaterThan(10);
  });
});
