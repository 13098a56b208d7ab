import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { command } from './exposition-validate.command';
import type { CliIo } from './main';

function capture(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-expo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, body);
  return p;
}

describe('arcwatch exposition validate', () => {
  it('prints the sample and family counts of a valid scrape and exits 0', async () => {
    const io = capture();
    const f = path.join(
      FIXTURES_DIR,
      'dcgm-exporter',
      'dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt',
    );
    expect(await command([f], io)).toBe(0);
    expect(io.outLines).toEqual([`${f}: 23 samples in 23 families (prometheus)`]);
    expect(io.errLines).toEqual([]);
  });

  it('prints FILE:LINE: reason for each problem and exits 1', async () => {
    const io = capture();
    const f = file('bad.prom', '# TYPE a gauge\na 1\na{x="1} 2\nb 3 4.5\n');
    expect(await command([f], io)).toBe(1);
    expect(io.errLines).toEqual([
      `${f}:3: unterminated value for label "x" (column 5)`,
      `${f}:4: invalid timestamp "4.5" (integer milliseconds expected) (column 5)`,
      `${f}: 2 error(s); not a valid prometheus exposition`,
    ]);
  });

  it('detects OpenMetrics by # EOF, and --format forces the stricter rules', async () => {
    const f = file('om.txt', '# TYPE a counter\na_total 1\n# EOF\n');
    const io = capture();
    expect(await command([f], io)).toBe(0);
    expect(io.outLines).toEqual([`${f}: 1 samples in 1 families (openmetrics)`]);
    const g = file('plain.txt', 'a{x="1", y="2"} 1\n');
    expect(await command(['--format=prometheus', g], capture())).toBe(0);
    const io2 = capture();
    expect(await command(['--format', 'openmetrics', g], io2)).toBe(1);
    expect(io2.errLines[0]).toBe(`${g}:1: invalid label name (column 9)`);
    expect(io2.errLines[1]).toBe(`${g}:1: missing "# EOF" at the end`);
  });

  it('mentions dropped DCGM blank values in the summary', async () => {
    const io = capture();
    const f = file(
      'dcgm.prom',
      'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL{gpu="0"} 9223372036854775794\nDCGM_FI_DEV_GPU_TEMP{gpu="0"} 40\n',
    );
    expect(await command([f], io)).toBe(0);
    expect(io.outLines).toEqual([`${f}: 1 samples in 1 families (prometheus), 1 DCGM blank value(s) dropped`]);
  });

  it.each([
    [[], 'missing FILE'],
    [['a', 'b'], 'exactly one FILE expected'],
    [['--format', 'json', 'a'], 'unknown format "json"'],
    [['--strict', 'a'], 'unknown option "--strict"'],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const io = capture();
    expect(await command(args, io)).toBe(2);
    expect(io.errLines).toEqual([
      `arcwatch exposition validate: ${message}`,
      'usage: arcwatch exposition validate [--format prometheus|openmetrics] FILE',
    ]);
  });

  it('exits 2 when the file cannot be read', async () => {
    const io = capture();
    expect(await command([path.join(dir, 'missing.prom')], io)).toBe(2);
    expect(io.errLines).toEqual([`${path.join(dir, 'missing.prom')}: cannot read: ENOENT`]);
  });
});
