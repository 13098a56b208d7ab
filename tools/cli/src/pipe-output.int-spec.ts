import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';

/**
 * Output through a pipe: the CLI must exit only after everything it wrote reached the reader.
 * Each command runs as `arcwatch … | wc -c` in a shell; the byte count and the exit status of
 * the command (not of wc) are compared with the same run writing to a file.
 */
const BIN = `${path.join(REPO_ROOT, 'node_modules/.bin/node')} ${path.join(REPO_ROOT, 'tools/cli/bin/arcwatch.js')}`;

function throughPipe(args: string): { bytes: number; status: number } {
  const r = spawnSync(
    'bash',
    ['-c', `set -o pipefail; ${BIN} ${args} 2>/dev/null | wc -c; echo "status=\${PIPESTATUS[0]}"`],
    { encoding: 'utf8', cwd: REPO_ROOT, maxBuffer: 1 << 20 },
  );
  const [bytes, status] = r.stdout.trim().split('\n');
  return { bytes: Number(bytes), status: Number(status.replace('status=', '')) };
}

function toFile(args: string, file: string): { bytes: number; status: number } {
  const r = spawnSync('bash', ['-c', `${BIN} ${args} > ${file} 2>/dev/null; echo $?; wc -c < ${file}`], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
  });
  const [status, bytes] = r.stdout.trim().split('\n');
  return { bytes: Number(bytes), status: Number(status) };
}

describe('arcwatch output through a pipe', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-pipe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trace assemble: more than 1 MB of records all reach the reader', () => {
    const lines: string[] = [];
    const t0 = Date.parse('2025-06-01T12:00:00Z');
    for (let i = 0; i < 2_000; i++) {
      const at = t0 + i * 10;
      for (const [kind, dt] of [
        ['received', 0],
        ['scheduled', 20],
        ['first_token', 120],
        ['completed', 900],
      ] as const) {
        lines.push(
          JSON.stringify({
            requestId: `r-${i}`,
            kind,
            time: new Date(at + dt).toISOString(),
            model: 'm',
            ...(kind === 'completed' ? { completionTokens: 50 } : {}),
          }),
        );
      }
    }
    const events = path.join(dir, 'events.jsonl');
    writeFileSync(events, lines.join('\n') + '\n');
    const piped = throughPipe(`trace assemble --events ${events}`);
    expect(piped.bytes).toBeGreaterThan(1_000_000);
    expect(piped).toEqual(toFile(`trace assemble --events ${events}`, path.join(dir, 'a.out')));
  });

  it('every other command writes the same bytes and exit status to a pipe as to a file', () => {
    const keys = path.join(dir, 'keys.txt');
    writeFileSync(keys, Array.from({ length: 20_000 }, (_, i) => `sk-test-${i}`).join('\n') + '\n');
    const commands = [
      `exposition validate ${path.join(FIXTURES_DIR, 'node-exporter/node-exporter-1.5.0-debian12.metrics.txt')}`,
      'contracts export --out ' + path.join(dir, 'events'),
      `trace hash-key --salt a-salt-of-16-chars < ${keys}`,
    ];
    for (const [i, c] of commands.entries()) {
      const piped = throughPipe(c);
      expect([c, piped]).toEqual([c, toFile(c, path.join(dir, `${i}.out`))]);
      expect(piped.bytes).toBeGreaterThan(0);
    }
  });
});
