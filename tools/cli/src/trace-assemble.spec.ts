import { DEFAULT_POLICY, EMPTY_DIRECTORY } from '@arcwatch/request-assembly';
import { assembleJsonl } from './trace-assemble.command';

describe('arcwatch trace assemble', () => {
  it('prints one record per request, reports bad lines by number and keeps the rest', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const lines = [
      '{"requestId":"r-1","kind":"completed","time":"2025-06-01T12:00:01.305Z","completionTokens":11}',
      '{"requestId":"r-1","kind":"received","time":"2025-06-01T12:00:00.000Z","apiKey":"sk-1"}',
      'not json',
      '{"requestId":"r-1","kind":"first_token","time":"2025-06-01T12:00:00.305Z"}',
      '',
      '{"requestId":"r-2","kind":"started","time":"2025-06-01T12:00:00.000Z"}',
    ];
    const code = await assembleJsonl(
      lines,
      {
        name: 'f.jsonl',
        nowMs: Infinity,
        salt: 'a-salt-of-16-chars',
        directory: EMPTY_DIRECTORY,
        policy: DEFAULT_POLICY,
      },
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    expect(code).toBe(1);
    expect(
      out.map((l) => JSON.parse(l)).map((r) => [r.requestId, r.status, r.ttftMs, r.tpotMs, r.missingPhases]),
    ).toEqual([['r-1', 'completed', 305, 100, ['queued', 'scheduled']]]);
    expect(out[0]).not.toContain('sk-1');
    expect(err.map((e) => e.split(':').slice(0, 2).join(':'))).toEqual(['f.jsonl:3', 'f.jsonl:6']);
  });

  it('refuses a raw key when no salt is configured rather than passing it on', async () => {
    const err: string[] = [];
    const code = await assembleJsonl(
      ['{"requestId":"r","kind":"received","time":"2025-06-01T12:00:00Z","apiKey":"sk"}'],
      { name: 'f', nowMs: Infinity, salt: undefined, directory: EMPTY_DIRECTORY, policy: DEFAULT_POLICY },
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(code).toBe(1);
    expect(err[0]).toMatch(/f:1: apiKey: .*salt/);
  });
});
