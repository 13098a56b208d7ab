import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { parseExposition } from './exposition-parser';

/**
 * The official OpenMetrics parser suite: every case under cases/ must be accepted exactly when
 * its test.json says `shouldParse`. "Accepted" means no error at all (OpenMetrics conformance is
 * whole-exposition). Bodies are fed as bytes so that invalid UTF-8 is caught like a real body.
 */
const CASES_DIR = path.join(FIXTURES_DIR, 'openmetrics-parsers', 'cases');

interface CaseSpec {
  type: string;
  file: string;
  shouldParse: boolean;
}

const cases = fs
  .readdirSync(CASES_DIR)
  .sort()
  .map((name) => {
    const spec = JSON.parse(fs.readFileSync(path.join(CASES_DIR, name, 'test.json'), 'utf8')) as CaseSpec;
    return { name, spec, body: new Uint8Array(fs.readFileSync(path.join(CASES_DIR, name, spec.file))) };
  });

describe('OpenMetrics parser conformance suite', () => {
  it('has the cases SOURCES.md lists (none silently missing)', () => {
    expect(cases.length).toBe(106);
    expect(cases.filter((c) => c.spec.shouldParse).length).toBe(22);
    expect(cases.every((c) => c.spec.type === 'text')).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = parseExposition(c.body, { format: 'openmetrics' });
    if (c.spec.shouldParse) {
      expect(result.errors).toEqual([]);
    } else {
      expect(result.errors.length).toBeGreaterThan(0);
      for (const e of result.errors) expect(e.line).toBeGreaterThanOrEqual(1);
    }
  });

  it('reads the values of accepted cases, not just their shape', () => {
    const byName = new Map(cases.map((c) => [c.name, c]));
    const timestamps = parseExposition(byName.get('timestamps')!.body, { format: 'openmetrics' });
    expect(timestamps.samples.map((s) => s.timestampMs)).toEqual([
      0, 0, 1100, 12345678901234567890123, 1500000, 1234567890000,
    ]);
    const escaping = parseExposition(byName.get('escaping')!.body, { format: 'openmetrics' });
    expect(escaping.families[0].help).toBe('he\n\\l\\tp');
    expect(escaping.samples.map((s) => s.labels.foo)).toEqual(['b"a\nr', 'b\\a\\z', 'b"a\nr # ', 'b\\a\\z # ']);
    const uint64 = parseExposition(byName.get('uint64_counter')!.body, { format: 'openmetrics' });
    expect(uint64.samples[0].value).toBe(9223372036854775808);
    expect(uint64.dropped).toBe(0);
  });
});
