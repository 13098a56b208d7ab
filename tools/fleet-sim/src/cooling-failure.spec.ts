import { parseExposition } from '@arcwatch/exposition';
import { FleetModel } from './fleet-model';

const START = Date.parse('2026-01-05T12:00:00Z');

/** GPU index → temperature (°C) of node 0, from its dcgm-exporter page. */
function temps(m: FleetModel): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of parseExposition(m.dcgmExposition(0) ?? '').samples)
    if (s.name === 'DCGM_FI_DEV_GPU_TEMP') out.set(s.labels.gpu, s.value);
  return out;
}

/** Seconds until the board passes 85 °C (the rule pack's threshold), within `limitS`. */
function secondsTo85(ambientC: number | undefined, limitS: number): { hot: number | null; others: number } {
  const m = new FleetModel({
    nodes: 1,
    gpusPerNode: 4,
    startMs: START,
    hotGpu: { node: 0, gpu: 1 },
    loadScale: 4,
    ambientC,
  });
  let hot: number | null = null;
  let others = 0;
  for (let s = 1; s <= limitS; s++) {
    m.advanceTo(START + s * 1000);
    const t = temps(m);
    if (hot === null && (t.get('1') ?? 0) > 85) hot = s;
    for (const [gpu, c] of t) if (gpu !== '1') others = Math.max(others, c);
  }
  return { hot, others };
}

describe('inlet temperature (--ambient): a cooling failure', () => {
  it('takes the poorly cooled board past 85 °C in about a minute at 35 °C, the others staying below', () => {
    const warm = secondsTo85(35, 120);
    expect(warm.hot).not.toBeNull();
    expect(warm.hot as number).toBeGreaterThan(30);
    expect(warm.hot as number).toBeLessThan(90);
    expect(warm.others).toBeLessThan(85);
  });

  it('leaves the default fleet below 85 °C for those two minutes', () => {
    expect(secondsTo85(undefined, 90).hot).toBeNull();
  });
});
