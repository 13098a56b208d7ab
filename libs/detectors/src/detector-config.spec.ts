import path from 'node:path';
import { ConfigFileError, type ConfigIssue } from '@arcwatch/config-files';
import { loadDetectorFile, parseDetectorFile } from './detector-config.schema';
import { createDetector } from './registry';

const REPO = path.resolve(__dirname, '..', '..', '..');

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseDetectorFile(text, 'bad.yaml');
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigFileError');
}

describe('detector files', () => {
  it('loads infra/detectors/llm-fleet.yaml, and every entry builds a detector', () => {
    const defs = loadDetectorFile(path.join(REPO, 'infra', 'detectors', 'llm-fleet.yaml'));
    expect(defs.map((d) => d.name)).toEqual([
      'ttft-p99-drift',
      'vllm-ttft-p99-drift',
      'generation-throughput-drop',
      'error-rate-shift',
      'tpot-p99-outlier',
    ]);
    const drop = defs.find((d) => d.name === 'generation-throughput-drop');
    expect(drop).toMatchObject({
      severity: 'P1',
      forMs: 600_000,
      labels: { team: 'inference' },
      flap: { windowMs: 3_600_000, enter: 4, exit: 1 },
    });
    expect(drop?.spec).toMatchObject({ kind: 'seasonal', sensitivity: 0.6, params: { sides: 'down', dayBins: 48 } });
    expect(drop?.ast.kind).toBe('aggregate');
    for (const d of defs)
      expect(createDetector(d.spec).update(0, 1)).toEqual({ score: 0, anomalous: false, direction: 'none' });
  });

  it('fills defaults: sensitivity 0.5, for 0, no labels, no flap', () => {
    const [d] = parseDetectorFile(
      'detectors:\n  - name: x\n    selector: up\n    detector: { kind: robust }\n    severity: P3\n',
      'x.yaml',
    );
    expect(d).toMatchObject({
      forMs: 0,
      labels: {},
      annotations: {},
      spec: { kind: 'robust', sensitivity: 0.5, params: { window: 200 } },
    });
    expect(d.flap).toBeUndefined();
  });

  it('locates schema problems by file, line, column and field path, all at once', () => {
    const text = [
      'detectors:', //                                   1
      '  - name: ttft', //                               2
      '    selector: arcwatch_request_ttft_seconds', //  3
      '    detector:', //                                4
      '      kind: seasonal', //                         5
      '      params:', //                                6
      '        alpha: 2', //                             7
      '    severity: P5', //                             8
      '    for: 5 minutes', //                           9
      '    sensitivity: 0.5', //                         10
      '    colour: red', //                              11
    ].join('\n');
    const issues = issuesOf(text);
    const byField = Object.fromEntries(issues.map((i) => [i.field, i]));
    expect(byField['detectors[0].detector.params.alpha']).toMatchObject({ file: 'bad.yaml', line: 7, column: 16 });
    expect(byField['detectors[0].severity']).toMatchObject({ line: 8, column: 15 });
    expect(byField['detectors[0].for']).toMatchObject({ line: 9, column: 10 });
    expect(byField['detectors[0].for'].message).toMatch(/duration/);
    expect(byField['detectors[0].colour']).toMatchObject({ line: 11, column: 5, message: 'unknown field' });
  });

  it('rejects an unknown detector kind and a parameter of another kind', () => {
    const issues = issuesOf(
      'detectors:\n  - name: a\n    selector: up\n    detector: { kind: prophet }\n    severity: P1\n  - name: b\n    selector: up\n    detector: { kind: robust, params: { drift: 1 } }\n    severity: P1\n',
    );
    expect(issues.map((i) => `${i.line}:${i.field}`)).toEqual(
      expect.arrayContaining(['4:detectors[0].detector.kind', '8:detectors[1].detector.params.drift']),
    );
  });

  it('parses the selector with the PromQL parser and names duplicates', () => {
    const text =
      'detectors:\n  - name: a\n    selector: rate(up[5m]\n    detector: { kind: cusum }\n    severity: P2\n  - name: a\n    selector: up[5m]\n    detector: { kind: cusum }\n    severity: P2\n';
    const issues = issuesOf(text);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 3,
          field: 'detectors[0].selector',
          message: expect.stringMatching(/could not parse selector/),
        }),
        expect.objectContaining({ line: 6, field: 'detectors[1].name', message: expect.stringMatching(/duplicate/) }),
        expect.objectContaining({
          line: 7,
          field: 'detectors[1].selector',
          message: expect.stringMatching(/matrixSelector/),
        }),
      ]),
    );
  });

  it('reports YAML syntax errors and unreadable files', () => {
    expect(issuesOf('detectors:\n  - name: [unclosed\n')[0]).toMatchObject({
      field: '(yaml)',
      line: expect.any(Number),
    });
    expect(() => loadDetectorFile('/nonexistent/detectors.yaml')).toThrow(/cannot read/);
  });
});
