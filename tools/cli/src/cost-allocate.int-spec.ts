import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RequestCompletedV1 } from '@arcwatch/contracts';
import { REPO_ROOT } from '@arcwatch/testing';
import { main } from './main';

/**
 * `arcwatch cost allocate` as a user runs it: the bin through a shell pipe, more than 1 MB of
 * allocation lines, every line reaching the reader, and the lines adding up to the same totals
 * as --summary. The three-tenant scenario of libs/cost gives the hand-computed per-tenant totals.
 */
const BIN = `node ${path.join(REPO_ROOT, 'tools/cli/bin/arcwatch.js')}`;
const PRICES = path.join(REPO_ROOT, 'infra/billing/prices.yaml');
const T0 = Date.parse('2026-01-05T00:00:00Z');

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function rec(
  id: string,
  tenant: string,
  instance: string | null,
  scheduledMs: number,
  endMs: number,
  receivedMs = scheduledMs,
): RequestCompletedV1 {
  return {
    requestId: id,
    status: 'completed',
    startedAt: iso(receivedMs),
    endedAt: iso(endMs),
    tenant,
    team: `${tenant}-team`,
    project: 'chat',
    apiKeyHash: null,
    model: 'llama-3.1-70b',
    modelVersion: 'v1',
    instance,
    node: 'gpu-node-1',
    gpuUuids: [],
    promptTokens: 100,
    completionTokens: 50,
    cachedTokens: null,
    finishReason: 'stop',
    error: null,
    queueMs: scheduledMs - receivedMs,
    prefillMs: null,
    ttftMs: null,
    tpotMs: null,
    e2eMs: endMs - receivedMs,
    missingPhases: ['first_token'],
    timeline: [
      { kind: 'received', time: iso(receivedMs) },
      { kind: 'scheduled', time: iso(scheduledMs) },
      { kind: 'completed', time: iso(endMs) },
    ],
  };
}

function inventory(instances: string[], idle: 'separate' | 'shared'): string {
  return (
    `pools:\n  - { name: h100, owner: platform, idle: ${idle} }\ninstances:\n` +
    instances
      .map(
        (name) =>
          `  - instance: ${name}\n    pool: h100\n    placements:\n      - from: "${iso(T0)}"\n        gpus: 8\n        gpuModel: H100\n` +
          `        price: { provider: aws, region: us-east-1, pricingKind: on-demand }\n`,
      )
      .join('')
  );
}

function sh(cmd: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', cwd: REPO_ROOT, maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

describe('arcwatch cost allocate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-cost-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('through a pipe: > 1 MB of lines, all of them read, summing to the --summary totals', () => {
    const instances = ['vllm-0', 'vllm-1', 'vllm-2', 'vllm-3'];
    const tenants = ['acme', 'globex', 'initech', 'unknown'];
    const lines: string[] = [];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 6000; i++) {
      const start = T0 + rand(2 * 3_600_000);
      lines.push(
        JSON.stringify(
          rec(`req-${i}`, tenants[i % 4] as string, instances[rand(4)] as string, start, start + 500 + rand(60_000)),
        ),
      );
    }
    lines.push('{"not": "a record"}');
    lines.push(JSON.stringify(rec('lost', 'acme', 'vllm-9', T0, T0 + 1000)));
    const reqFile = path.join(dir, 'requests.jsonl');
    const invFile = path.join(dir, 'inventory.yaml');
    writeFileSync(reqFile, lines.join('\n') + '\n');
    writeFileSync(invFile, inventory(instances, 'separate'));
    const args = `cost allocate --requests ${reqFile} --inventory ${invFile} --prices ${PRICES}`;

    const piped = sh(
      `set -o pipefail; ${BIN} ${args} 2>${dir}/err | tee ${dir}/out | wc -l; echo "status=\${PIPESTATUS[0]}"`,
    );
    const [count, status] = piped.stdout.trim().split('\n');
    const out = readFileSync(path.join(dir, 'out'), 'utf8');
    expect(Buffer.byteLength(out)).toBeGreaterThan(1_000_000);
    expect(status).toBe('status=1'); // two lines skipped
    const rows = out
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            window: string;
            instance: string;
            tenant: string;
            requestId: string | null;
            amountMicro: string;
          },
      );
    expect(rows).toHaveLength(Number(count));
    const err = readFileSync(path.join(dir, 'err'), 'utf8');
    expect(err).toContain(`${reqFile}:6001: not a request record`);
    expect(err).toContain('lost: instance vllm-9 is not in the inventory');

    // Every window's lines add up to that window's cost: the instance costs 98.32 USD/h, and the
    // windows of one instance add up to floor(98.32e6 · span / 1 h) from the placement start.
    const perInstance = new Map<string, bigint>();
    const windows = new Map<string, Set<string>>();
    for (const r of rows) {
      perInstance.set(r.instance, (perInstance.get(r.instance) ?? 0n) + BigInt(r.amountMicro));
      windows.set(r.instance, (windows.get(r.instance) ?? new Set()).add(r.window));
    }
    for (const inst of instances) {
      const ws = [...(windows.get(inst) ?? [])].map((w) => Date.parse(w)).sort((a, b) => a - b);
      const first = ws[0] as number;
      const last = (ws[ws.length - 1] as number) + 60_000;
      expect(first).toBe(T0);
      expect(ws).toHaveLength((last - first) / 60_000);
      expect(perInstance.get(inst)).toBe((98_320_000n * BigInt(last - T0)) / 3_600_000n);
    }

    const summary = sh(`${BIN} ${args} --summary 2>/dev/null`);
    const sums = summary.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tenant: string; amountMicro: string; requests: number });
    const fromLines = new Map<string, bigint>();
    for (const r of rows) fromLines.set(r.tenant, (fromLines.get(r.tenant) ?? 0n) + BigInt(r.amountMicro));
    expect(sums.map((s) => [s.tenant, BigInt(s.amountMicro)])).toEqual(
      [...fromLines.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    expect(sums.map((s) => s.tenant)).toEqual(['acme', 'globex', 'idle', 'initech', 'unattributed']);
    expect(sums.filter((s) => s.tenant !== 'idle').reduce((n, s) => n + s.requests, 0)).toBe(6000);
  });

  it('the three-tenant 8×H100 scenario gives the hand-computed totals (time-share; idle apart, then shared)', async () => {
    const s = (sec: number) => T0 + sec * 1000;
    const records = [
      rec('r1', 'acme', 'vllm-h100-0', s(0), s(30)),
      rec('r2', 'globex', 'vllm-h100-0', s(10), s(40)),
      rec('r3', 'initech', 'vllm-h100-0', s(20), s(50)),
      rec('r4', 'acme', 'vllm-h100-0', s(60), s(90), s(55)),
      rec('r5', 'unknown', 'vllm-h100-0', s(70), s(95)),
      rec('r6', 'globex', 'vllm-h100-0', s(100), s(130)),
    ];
    const reqFile = path.join(dir, 'scenario.jsonl');
    const invFile = path.join(dir, 'scenario-inventory.yaml');
    writeFileSync(reqFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(invFile, inventory(['vllm-h100-0'], 'separate'));
    const run = async (extra: string[]) => {
      const out: string[] = [];
      const code = await main(
        [
          'cost',
          'allocate',
          '--requests',
          reqFile,
          '--inventory',
          invFile,
          '--prices',
          PRICES,
          '--to',
          iso(s(180)),
          '--summary',
          ...extra,
        ],
        { out: (l) => out.push(l), err: () => undefined },
      );
      expect(code).toBe(0);
      return Object.fromEntries(
        out.map((l) => JSON.parse(l) as { tenant: string; amountMicro: string }).map((x) => [x.tenant, x.amountMicro]),
      );
    };
    // See libs/cost/src/h100-instance-shared-by-three-tenants.spec.ts for the arithmetic.
    expect(await run([])).toEqual({
      acme: String(500_704 + 546_222),
      globex: String(364_148 + 546_222 + 273_111),
      initech: '500703',
      unattributed: '409667',
      idle: String(273_111 + 136_556 + 1_365_556),
    });
    expect(await run(['--idle', 'shared'])).toEqual({
      acme: String(600_845 + 595_879),
      globex: String(436_977 + 595_879 + 1_638_667),
      initech: '600844',
      unattributed: '446909',
    });
  });

  it('refuses bad options and bad files with their location', async () => {
    const err: string[] = [];
    const bad = path.join(dir, 'bad-inventory.yaml');
    writeFileSync(bad, 'pools: []\ninstances: []\n');
    const io = { out: () => undefined, err: (l: string) => err.push(l) };
    expect(
      await main(
        ['cost', 'allocate', '--requests', '-', '--inventory', bad, '--prices', PRICES, '--method', 'fair'],
        io,
      ),
    ).toBe(2);
    expect(err[0]).toMatch(/^--method: expected time-share or tokens/);
    expect(await main(['cost', 'allocate', '--requests', '-', '--inventory', bad, '--prices', PRICES], io)).toBe(2);
    expect(err[1]).toMatch(/bad-inventory.yaml:1:8: pools: Too small/);
  });
});
