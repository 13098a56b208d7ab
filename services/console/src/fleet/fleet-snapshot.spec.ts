import { ManualClock } from '@arcwatch/runtime';
import type { UpstreamClient } from '../upstream/upstream.client';
import { FleetService } from './fleet.service';

/** A collector stand-in at the client's boundary: every ask answers the current utilisation. */
function collector() {
  const state = { utilisation: 10, asks: 0 };
  const vector = (metric: Record<string, string>, v: number) => ({
    status: 'success',
    data: { resultType: 'vector', result: [{ metric, value: [0, String(v)] }] },
  });
  const upstream = {
    get: async (_service: string, path: string, q: Record<string, unknown>) => {
      state.asks++;
      if (path === 'api/v1/series') return { status: 'success', data: [{ node: 'n1', gpu: '0' }] };
      if (String(q.query).startsWith('up')) return vector({ node: 'n1', job: 'dcgm' }, 1);
      return vector({ __name__: 'DCGM_FI_DEV_GPU_UTIL', node: 'n1', gpu: '0' }, state.utilisation);
    },
  } as unknown as UpstreamClient;
  return { state, upstream };
}
const util = (f: { nodes: Array<{ gpus: Array<{ utilization: number | null }> }> }) => f.nodes[0]!.gpus[0]!.utilization;

describe('fleet snapshot', () => {
  it('answers a fresh snapshot from memory, a stale one at once while refreshing it, an old one afresh', async () => {
    const clock = new ManualClock();
    const { state, upstream } = collector();
    const fleet = new FleetService(upstream, clock);

    expect(util(await fleet.current(5_000, 60_000))).toBe(10); // none yet: computed
    expect(state.asks).toBe(3);
    state.utilisation = 50;
    await clock.advance(4_000);
    expect(util(await fleet.current(5_000, 60_000))).toBe(10); // fresh enough: no ask
    expect(state.asks).toBe(3);

    await clock.advance(2_000);
    expect(util(await fleet.current(5_000, 60_000))).toBe(10); // stale: answered, refreshed behind
    await new Promise((r) => setImmediate(r));
    expect(state.asks).toBe(6);
    expect(util(await fleet.current(5_000, 60_000))).toBe(50);

    state.utilisation = 70;
    await clock.advance(61_000);
    expect(util(await fleet.current(5_000, 60_000))).toBe(70); // too old to show: waits
    // the live stream's own bound (no stale answers)
    state.utilisation = 80;
    await clock.advance(6_000);
    expect(util(await fleet.current(5_000))).toBe(80);
    // ?at= never reads the snapshot
    state.utilisation = 90;
    expect(util(await fleet.at(clock.now()))).toBe(90);
  });
});
