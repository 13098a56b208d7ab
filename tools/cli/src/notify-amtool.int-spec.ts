import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { main } from './main';

/**
 * Debian's amtool as a real peer: for every routing case of the fixtures whose config that amtool
 * version can load, `arcwatch notify routes test [--tree]`, `routes show` and `check-config`
 * print exactly what amtool prints. Configs only newer Alertmanager releases accept are compared
 * with the fixtures' recorded answers by the unit suite instead.
 */
const AMTOOL = spawnSync('sh', ['-c', 'command -v amtool'], { encoding: 'utf8' }).stdout.trim();
const CASES = path.join(FIXTURES_DIR, 'alertmanager', 'routing-cases');

async function ours(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(args, { out: (l) => lines.push(l), err: () => undefined });
  return { code, out: lines.map((l) => `${l}\n`).join('') };
}

function amtool(args: string[]): { code: number; out: string } {
  const p = spawnSync(AMTOOL, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: p.status ?? -1, out: p.stdout };
}

function caseFiles(kind: string): Record<string, unknown>[] {
  const dir = path.join(CASES, kind);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json') && statSync(path.join(dir, n)).isFile())
    .sort()
    .map((n) => JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as Record<string, unknown>);
}

// amtool is installed by infra/peers.sh; without it there is no peer to compare with.
const describeWithAmtool = AMTOOL ? describe : describe.skip;

describeWithAmtool('arcwatch notify against the real amtool', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-amtool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the same receivers, matching tree, routing tree and check-config report for every loadable routing case', async () => {
    let compared = 0;
    for (const f of [...caseFiles('routing'), ...caseFiles('routing-generated')]) {
      const file = path.join(dir, `${String(f.id).replace(/\//g, '_')}.yml`);
      writeFileSync(file, String(f.config));
      if (amtool(['check-config', file]).code !== 0) continue;
      expect(await ours(['notify', 'check-config', file])).toEqual(amtool(['check-config', file]));
      expect(await ours(['notify', 'routes', 'show', '--config', file])).toEqual(
        amtool(['config', 'routes', 'show', `--config.file=${file}`]),
      );
      for (const c of f.cases as { alert_labels: Record<string, string> }[]) {
        const labels = Object.entries(c.alert_labels).map(([k, v]) => `${k}=${v}`);
        const want = amtool(['config', 'routes', 'test', `--config.file=${file}`, '--tree', ...labels]);
        expect(await ours(['notify', 'routes', 'test', '--config', file, '--tree', ...labels])).toEqual(want);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(60);
  });

  it('agrees on validity with amtool check-config wherever the fixtures record that this amtool version agrees', async () => {
    const version = amtool(['--version']).out + spawnSync(AMTOOL, ['--version'], { encoding: 'utf8' }).stderr;
    const tag = /version (\d+\.\d+\.\d+)/.exec(version)?.[1] ?? '';
    let compared = 0;
    for (const f of caseFiles('config-validation')) {
      const oracle = ((f.cases as { oracle?: Record<string, { agrees_on_validity?: boolean }> }[])[0].oracle ?? {})[
        `amtool ${tag} check-config`
      ];
      if (oracle?.agrees_on_validity !== true) continue;
      const file = path.join(dir, `${String(f.id).replace(/\//g, '_')}.yml`);
      writeFileSync(file, String(f.config));
      const theirs = amtool(['check-config', file]);
      const mine = await ours(['notify', 'check-config', '--enable-feature=classic-mode', file]);
      expect({ id: f.id, valid: mine.code === 0 }).toEqual({ id: f.id, valid: theirs.code === 0 });
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('fails --verify.receivers as amtool does', async () => {
    const file = path.join(dir, 'verify.yml');
    writeFileSync(
      file,
      'route:\n  receiver: a\n  routes:\n  - matchers: [x="1"]\n    receiver: b\nreceivers: [{name: a}, {name: b}]\n',
    );
    const args = ['--verify.receivers=a', 'x=1'];
    const theirs = amtool(['config', 'routes', 'test', `--config.file=${file}`, ...args]);
    expect(theirs.code).toBe(1);
    expect(await ours(['notify', 'routes', 'test', '--config', file, ...args])).toEqual(theirs);
  });
});
