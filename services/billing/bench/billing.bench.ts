/**
 * `npm run bench:billing -- [--requests N] [--no-docs]`: one day of N (default 1,000,000)
 * requests on 64 GPUs (8 instances × 8 H100) allocated window by window (time-share, 60 s) and
 * reconciled to an hourly invoice per instance; in the same run, the same request rows COPYed
 * into PostgreSQL and read by one aggregate scan (GROUP BY tenant, instance). Conservation is
 * checked on the results (outside the timings). Writes its block into docs/benchmarks.md.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  Allocator,
  Inventory,
  PriceCatalog,
  reconcile,
  type CostRequest,
  type InvoiceLine,
  type WindowAllocation,
} from '@arcwatch/cost';
import { REPO_ROOT, createTestDatabase } from '@arcwatch/testing';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] as string) : def;
};
const N = Number(arg('requests', '1000000'));
const writeDocs = !args.includes('--no-docs');
const T0 = Date.parse('2026-01-05T00:00:00Z');
const DAY = 86_400_000;
const INSTANCES = Array.from({ length: 8 }, (_, i) => `vllm-h100-${i}`);

function generate(): Map<string, CostRequest[]> {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const out = new Map<string, CostRequest[]>(INSTANCES.map((i) => [i, []]));
  for (let i = 0; i < N; i++) {
    // A day with a daytime peak: start times drawn from a bump over the day.
    const u = (rnd() + rnd() + rnd()) / 3;
    const start = T0 + Math.floor(u * (DAY - 30_000));
    const prefill = 50 + Math.floor(rnd() * 400);
    const decode = 300 + Math.floor(rnd() * 15_000);
    const instance = INSTANCES[Math.floor(rnd() * INSTANCES.length)] as string;
    (out.get(instance) as CostRequest[]).push({
      requestId: `req-${String(i).padStart(7, '0')}`,
      instance,
      startMs: start,
      endMs: start + prefill + decode,
      firstTokenMs: start + prefill,
      tenant: rnd() < 0.02 ? null : `tenant-${Math.floor(rnd() * 40)}`,
      team: `team-${i % 12}`,
      project: `project-${i % 30}`,
      model: 'llama-3.1-70b',
      modelVersion: i % 3 === 0 ? 'v2' : 'v1',
      apiKeyHash: null,
      promptTokens: 100 + Math.floor(rnd() * 2000),
      completionTokens: 20 + Math.floor(rnd() * 800),
    });
  }
  return out;
}

function inventory(): Inventory {
  return new Inventory(
    [{ name: 'h100', owner: 'platform', idle: 'separate' }],
    INSTANCES.map((instance) => ({
      instance,
      pool: 'h100',
      fromMs: T0,
      toMs: Number.POSITIVE_INFINITY,
      node: null,
      gpuUuids: [],
      gpus: 8,
      gpuModel: 'H100',
      price: { gpuModel: 'H100', provider: 'aws', region: 'us-east-1', pricingKind: 'on-demand' as const },
      resourceId: `i-${instance}`,
    })),
  );
}

function invoiceFor(windows: readonly WindowAllocation[]): InvoiceLine[] {
  // One line per instance and hour, billed at 97 % of the modelled cost (a discount the model does not know).
  const hourly = new Map<string, bigint>();
  for (const w of windows) {
    const k = `${w.instance}|${Math.floor(w.windowStartMs / 3_600_000)}`;
    hourly.set(k, (hourly.get(k) ?? 0n) + w.costMicro);
  }
  return [...hourly.entries()].map(([k, micro], i) => {
    const [instance, hour] = k.split('|') as [string, string];
    const start = Number(hour) * 3_600_000;
    return {
      id: `line-${i}`,
      lineNo: i + 2,
      billedCost: ((micro * 97n) / 100n) * 1_000_000n,
      effectiveCost: null,
      listCost: null,
      currency: 'USD',
      chargePeriodStartMs: start,
      chargePeriodEndMs: start + 3_600_000,
      billingPeriodStartMs: null,
      billingPeriodEndMs: null,
      chargeCategory: 'Usage' as const,
      chargeClass: null,
      chargeDescription: null,
      resourceId: `i-${instance}`,
      resourceName: null,
      providerName: 'AWS',
      regionId: 'us-east-1',
      serviceName: null,
      skuId: null,
      consumedQuantity: null,
      consumedUnit: null,
      pricingQuantity: null,
      pricingUnit: null,
      tags: null,
    };
  });
}

async function pgScan(
  byInstance: Map<string, CostRequest[]>,
): Promise<{ copyMs: number; scanMs: number; groups: number; version: string }> {
  const db = await createTestDatabase();
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const version = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
    await c.query(`CREATE TABLE request_intervals (request_id text, instance text, tenant text, team text, project text, model_version text,
      start_ms bigint, end_ms bigint, prompt_tokens int, completion_tokens int)`);
    const t0 = performance.now();
    function* rows() {
      for (const list of byInstance.values()) {
        for (const r of list) {
          yield `${r.requestId}\t${r.instance}\t${r.tenant ?? '\\N'}\t${r.team}\t${r.project}\t${r.modelVersion}\t${r.startMs}\t${r.endMs}\t${r.promptTokens}\t${r.completionTokens}\n`;
        }
      }
    }
    await pipeline(Readable.from(rows()), c.query(copyFrom('COPY request_intervals FROM STDIN')));
    await c.query('ANALYZE request_intervals');
    const copyMs = performance.now() - t0;
    const scan = `SELECT tenant, instance, count(*), sum(end_ms - start_ms), sum(prompt_tokens), sum(completion_tokens)
                  FROM request_intervals GROUP BY tenant, instance`;
    await c.query(scan); // warm-up: the table in shared buffers
    const t1 = performance.now();
    const res = await c.query(scan);
    const scanMs = performance.now() - t1;
    return { copyMs, scanMs, groups: res.rowCount ?? 0, version };
  } finally {
    await c.end();
    await db.drop();
  }
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const byInstance = generate();
  const catalog = PriceCatalog.fromInputs([
    {
      gpuModel: 'H100',
      instanceType: 'p5.48xlarge',
      provider: 'aws',
      region: 'us-east-1',
      pricingKind: 'on-demand',
      currency: 'USD',
      perInstanceHour: '98.32',
      gpusPerInstance: 8,
      effectiveFrom: '2025-01-01T00:00:00Z',
    },
  ]);
  const inv = inventory();

  const ta = performance.now();
  const allocator = new Allocator(inv, catalog, { windowMs: 60_000, method: 'time-share' });
  const windows: WindowAllocation[] = [];
  for (const instance of INSTANCES)
    windows.push(...allocator.allocateInstance(instance, byInstance.get(instance) ?? [], T0, T0 + DAY + 60_000));
  const allocMs = performance.now() - ta;

  const invoice = invoiceFor(windows);
  const tr = performance.now();
  const rec = reconcile(windows, invoice);
  const recMs = performance.now() - tr;

  // Conservation, outside the timings.
  let lines = 0;
  for (const w of windows) {
    let s = 0n;
    for (const l of w.lines) s += l.amountMicro;
    if (s !== w.costMicro) throw new Error(`window ${w.windowStartMs} ${w.instance}: lines ${s} ≠ cost ${w.costMicro}`);
    lines += w.lines.length;
  }
  let billed = 0n;
  for (const g of rec.groups) {
    const s = g.lines.reduce((a, l) => a + l.reconciledMicro, 0n);
    if (s !== g.billedMicro) throw new Error(`group ${g.resourceId}: reconciled ${s} ≠ billed ${g.billedMicro}`);
    billed += g.billedMicro;
  }
  const total = windows.reduce((a, w) => a + w.costMicro, 0n);

  const pg = await pgScan(byInstance);
  const ratio = (allocMs + recMs) / pg.scanMs;
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? '?';
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const block = [
    `Last run ${new Date().toISOString().slice(0, 16)}Z: ${fmt(N)} requests over one day on 64 GPUs (8 instances × 8 H100, 98.32 USD/h each), time-share, 60 s windows: ${fmt(windows.length)} instance windows, ${fmt(lines)} allocation lines, ${(Number(total) / 1e6).toFixed(2)} USD modelled; ${fmt(invoice.length)} hourly invoice lines billed at 97 %, ${(Number(billed) / 1e6).toFixed(2)} USD reconciled to the micro-unit.`,
    '',
    `Machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory (${(freemem() / 2 ** 30).toFixed(1)} free), Node ${process.version}, PostgreSQL ${pg.version} on the same machine; load average at the start ${load0.map((x) => x.toFixed(2)).join(' / ')}; shared with other work.`,
    '',
    '| step | time | what |',
    '| --- | ---: | --- |',
    `| allocate | ${fmt(allocMs)} ms | \`Allocator.allocateInstance\` over every instance, exact sweep, largest remainder per window |`,
    `| reconcile | ${fmt(recMs)} ms | \`reconcile\`: group invoice lines, match windows, scale every line |`,
    `| PostgreSQL aggregate scan | ${fmt(pg.scanMs)} ms | \`SELECT tenant, instance, count(*), sum(…) … GROUP BY 1, 2\` over the same ${fmt(N)} rows (warm; ${pg.groups} groups) |`,
    `| (PostgreSQL COPY of the rows) | ${fmt(pg.copyMs)} ms | loading, not compared |`,
    '',
    `Allocate + reconcile took **${ratio.toFixed(1)}×** the aggregate scan (aim: within 3×).`,
  ].join('\n');
  console.log(block);
  if (writeDocs) {
    const file = path.join(REPO_ROOT, 'docs/benchmarks.md');
    const text = readFileSync(file, 'utf8');
    const start = '<!-- billing-bench:start -->';
    const end = '<!-- billing-bench:end -->';
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i < 0 || j < 0) throw new Error('docs/benchmarks.md has no billing-bench block');
    writeFileSync(file, `${text.slice(0, i + start.length)}\n${block}\n${text.slice(j)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
