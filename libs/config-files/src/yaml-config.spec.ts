import { z } from 'zod';
import { ConfigFileError, parseYamlConfig, type ConfigIssue } from './yaml-config';

const schema = z.object({ name: z.string(), limits: z.object({ max: z.number().int().min(1) }).strict() }).strict();

function issues(text: string): ConfigIssue[] {
  try {
    parseYamlConfig(text, 'f.yml', schema);
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  return [];
}

describe('YAML config files', () => {
  it('locate every problem by line, column and field path at once', () => {
    expect(issues('name: a\nlimits:\n  max: 0\n  extra: 1\n')).toEqual([
      { file: 'f.yml', line: 3, column: 8, field: 'limits.max', message: 'Too small: expected number to be >=1' },
      { file: 'f.yml', line: 4, column: 3, field: 'limits.extra', message: 'unknown field' },
    ]);
  });

  it('report YAML syntax and unresolved aliases as config errors, not crashes', () => {
    expect(issues('name: [a\n')[0]).toMatchObject({ file: 'f.yml', field: '(yaml)' });
    expect(issues('*-')[0]).toMatchObject({ file: 'f.yml', field: '(yaml)', message: expect.stringMatching(/alias/) });
  });

  it('refuse a NUL character where it is, which the YAML parser would have let through into a string', () => {
    expect(issues('name: ok\nlimits: { max: 2 }\n')).toEqual([]);
    expect(issues('name: o\u0000k\nlimits: { max: 2 }\n')).toEqual([
      {
        file: 'f.yml',
        line: 1,
        column: 8,
        field: '(yaml)',
        message: 'a NUL character (U+0000) is not allowed in YAML',
      },
    ]);
  });
});
