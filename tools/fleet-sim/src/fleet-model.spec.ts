import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Sample, parseExposition } from '@arcwatch/exposition';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { FleetModel } from './fleet-model';
import { isDown } from './load-plan';

const START = Date.parse('2026-11-23T14:00:00.000Z');
const OUTAGE = { node: 3, firstAtMs: 60_000, durationMs: 40_000, everyMs: 0 };

function model(seed = 7): FleetModel {
  return new FleetModel({ nodes: 4, seed, startMs: START, outage: OUTAGE, warmupMs: 20_000 });
}

function parse(text: string | null) {
  if (text === null) throw new Error('endpoint is down');
  const r = parseExposition(text);
  expect(r.errors).toEqual([]);
  return r;
}

const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

function valuesOf(text: string | null): Map<string, number> {
  return new Map(parse(text).samples.map((s) => [key(s), s.value]));
}

describe('FleetModel expositions', () => {
  const m = model();
  m.advanceTo(START + 30_000);

  it('serves the dcgm-exporter families, types and labels of the real exporter', () => {
    const r = parse(m.dcgmExposition(0));
    const real = parseExposition(
      readFileSync(
        path.join(FIXTURES_DIR, 'dcgm-exporter', 'dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt'),
        'utf8',
      ),
    );
    const ours = new Map(r.families.map((f) => [f.name, f]));
    for (const f of real.families) {
      expect(ours.get(f.name)).toEqual(expect.objectContaining({ type: f.type, help: f.help }));
    }
    expect(Object.keys(real.samples[0].labels)).toEqual(Object.keys(r.samples[0].labels));
    const util = r.samples.filter((s) => s.name === 'DCGM_FI_DEV_GPU_UTIL');
    expect(util.map((s) => s.labels.gpu)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(new Set(util.map((s) => s.labels.UUID)).size).toBe(8);
    expect(
      util.every((s) => s.labels.Hostname === 'gpu-node-001' && s.labels.modelName === 'NVIDIA H100 80GB HBM3'),
    ).toBe(true);
  });

  it('serves the vLLM V1 families with the real bucket bounds and labels', () => {
    const r = parse(m.vllmExposition(0));
    const real = parseExposition(
      readFileSync(path.join(FIXTURES_DIR, 'vllm', 'vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt'), 'utf8'),
    );
    const realFamilies = new Map(real.families.map((f) => [f.name, f]));
    const ourVllm = r.families.filter((f) => f.name.startsWith('vllm:'));
    expect(ourVllm.length).toBeGreaterThan(40);
    for (const f of ourVllm) expect(realFamilies.get(f.name)).toEqual(expect.objectContaining({ type: f.type }));
    const les = (samples: Sample[]) =>
      samples.filter((s) => s.name === 'vllm:time_to_first_token_seconds_bucket').map((s) => s.labels.le);
    expect(les(r.samples)).toEqual(les(real.samples));
    const running = r.samples.find((s) => s.name === 'vllm:num_requests_running');
    expect(running?.labels).toEqual({ engine: '0', model_name: 'meta-llama/Llama-3.1-70B-Instruct' });
  });

  it('keeps histograms consistent: cumulative buckets, +Inf = _count, plausible _sum', () => {
    const r = parse(m.vllmExposition(1));
    const bases = r.families.filter((f) => f.type === 'histogram').map((f) => f.name);
    expect(bases.length).toBe(15);
    for (const base of bases) {
      const buckets = r.samples.filter((s) => s.name === `${base}_bucket`);
      const counts = buckets.map((s) => s.value);
      for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
      const count = r.samples.find((s) => s.name === `${base}_count`)?.value;
      const sum = r.samples.find((s) => s.name === `${base}_sum`)?.value ?? NaN;
      expect(buckets.at(-1)?.labels.le).toBe('+Inf');
      expect(counts.at(-1)).toBe(count);
      // Every observation lies below its bucket's bound and above the previous one.
      let lo = 0;
      let hi = 0;
      buckets.forEach((b, i) => {
        const inBucket = counts[i] - (i > 0 ? counts[i - 1] : 0);
        const upper = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
        const lower = i > 0 ? Number(buckets[i - 1].labels.le) : 0;
        if (inBucket === 0) return;
        lo += inBucket * lower;
        hi += inBucket * upper;
      });
      expect(sum).toBeGreaterThanOrEqual(lo - 1e-6);
      expect(sum).toBeLessThanOrEqual(hi + 1e-6);
    }
    const e2eCount = r.samples.find((s) => s.name === 'vllm:e2e_request_latency_seconds_count')?.value ?? 0;
    expect(e2eCount).toBeGreaterThan(50);
  });

  it('is deterministic for a seed, whatever the spacing of advanceTo calls', () => {
    const a = model(11);
    const b = model(11);
    a.advanceTo(START + 20_000);
    for (let t = 1_000; t <= 20_000; t += 1_000) b.advanceTo(START + t);
    expect(a.vllmExposition(2)).toBe(b.vllmExposition(2));
    expect(a.dcgmExposition(2)).toBe(b.dcgmExposition(2));
    expect(model(12).dcgmExposition(0)).not.toBe(model(11).dcgmExposition(0));
  });
});

describe('FleetModel over time', () => {
  it('never lets a counter go down on a node that stays up', () => {
    const m = model();
    let prevD = new Map<string, number>();
    let prevV = new Map<string, number>();
    let checked = 0;
    for (let t = 5_000; t <= 55_000; t += 5_000) {
      m.advanceTo(START + t);
      const d = valuesOf(m.dcgmExposition(0));
      const v = valuesOf(m.vllmExposition(0));
      for (const [k, val] of d) {
        if (/ENERGY|REPLAY|NVLINK_BANDWIDTH|REMAPPED/.test(k) && prevD.has(k)) {
          expect(val).toBeGreaterThanOrEqual(prevD.get(k) as number);
          checked++;
        }
      }
      for (const [k, val] of v) {
        if (/_total\[|_bucket\[|_count\[|_sum\[/.test(k) && prevV.has(k)) {
          expect(val).toBeGreaterThanOrEqual(prevV.get(k) as number);
          checked++;
        }
      }
      prevD = d;
      prevV = v;
    }
    expect(checked).toBeGreaterThan(1000);
    expect(
      prevV.get('vllm:generation_tokens_total[["engine","0"],["model_name","meta-llama/Llama-3.1-70B-Instruct"]]'),
    ).toBeGreaterThan(10_000);
  });

  it('moves GPU power and utilisation with the load, and keeps one board hot', () => {
    const m = model();
    m.advanceTo(START + 50_000);
    const r = parse(m.dcgmExposition(0));
    const per = (name: string) => r.samples.filter((s) => s.name === name).map((s) => s.value);
    const power = per('DCGM_FI_DEV_POWER_USAGE');
    const temp = per('DCGM_FI_DEV_GPU_TEMP');
    expect(Math.min(...power)).toBeGreaterThan(150);
    expect(Math.max(...per('DCGM_FI_DEV_GPU_UTIL'))).toBeGreaterThan(50);
    const others = temp.filter((_, i) => i !== 5);
    expect(temp[5]).toBeGreaterThan(Math.max(...others) + 10);
    const fbUsed = per('DCGM_FI_DEV_FB_USED');
    const fbFree = per('DCGM_FI_DEV_FB_FREE');
    expect(fbUsed[0] + fbFree[0] + per('DCGM_FI_DEV_FB_RESERVED')[0]).toBe(81559);
  });

  it('kills the planned node: its endpoints go away, its requests are lost, and it reboots with fresh counters', () => {
    const m = model();
    m.advanceTo(START + 59_000);
    expect(m.isNodeUp(3)).toBe(true);
    expect(parse(m.dcgmExposition(3)).samples.find((s) => s.name === 'DCGM_FI_DEV_XID_ERRORS')?.value).toBe(79);
    const before = valuesOf(m.vllmExposition(3));
    m.drainEvents();
    m.advanceTo(START + 61_000);
    expect(isDown(OUTAGE, 3, START, START + 61_000)).toBe(true);
    expect(m.isNodeUp(3)).toBe(false);
    expect(m.dcgmExposition(3)).toBeNull();
    expect(m.vllmExposition(3)).toBeNull();
    expect(m.isNodeUp(2)).toBe(true);
    // The sibling serving the same model takes the traffic.
    m.advanceTo(START + 95_000);
    expect(m.engine(2)?.load).toBeGreaterThan(0);
    expect(
      m
        .drainEvents()
        .some((e) => e.node === 'gpu-node-004' && e.kind === 'failed' && e.error?.code === 'upstream_reset'),
    ).toBe(true);
    m.advanceTo(START + 101_000);
    expect(m.isNodeUp(3)).toBe(true);
    expect(m.dcgmExposition(3)).not.toBeNull();
    expect(m.vllmExposition(3)).toBeNull(); // still loading weights
    m.advanceTo(START + 125_000);
    const after = valuesOf(m.vllmExposition(3));
    const created = (v: Map<string, number>) =>
      [...v].find(([k]) => k.startsWith('vllm:prompt_tokens_created'))?.[1] ?? NaN;
    expect(created(after)).toBeGreaterThan(created(before));
    const gen = (v: Map<string, number>) =>
      [...v].find(([k]) => k.startsWith('vllm:generation_tokens_total'))?.[1] ?? NaN;
    expect(gen(after)).toBeLessThan(gen(before));
  });
});
