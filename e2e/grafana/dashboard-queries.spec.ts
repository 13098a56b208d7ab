import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FIXTURES_DIR } from '@arcwatch/testing';
import {
  GRAFANA_DIR,
  allPanels,
  intervals,
  loadDashboards,
  panelQueries,
  parseLabelValues,
  regexEscape,
  substitute,
  variableQuery,
} from './dashboard-queries';

const HOUR = 3_600_000;
const BUILTINS = new Set(['__interval', '__interval_ms', '__rate_interval', '__range', '__range_s', '__range_ms']);

describe('Grafana dashboards (static checks)', () => {
  const files = loadDashboards();

  it('has the four dashboards, each with its own uid', () => {
    expect(files.map((f) => f.file)).toEqual(['business.json', 'gpu.json', 'health.json', 'inference.json']);
    expect(new Set(files.map((f) => f.dashboard.uid)).size).toBe(files.length);
  });

  it.each(loadDashboards().map((f) => [f.file, f.dashboard] as const))('%s: imports into any Grafana', (_file, d) => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    const dsVar = d.templating.list.find((v) => v.type === 'datasource');
    expect(dsVar).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const panels = allPanels(d);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels.filter((x) => x.targets?.length)) {
      expect({ panel: p.title, ds: p.datasource }).toEqual({
        panel: p.title,
        ds: { type: 'prometheus', uid: '${datasource}' },
      });
      for (const t of p.targets ?? [])
        expect({ panel: p.title, ds: t.datasource?.uid }).toEqual({ panel: p.title, ds: '${datasource}' });
    }
  });

  it.each(loadDashboards().map((f) => [f.file, f.dashboard] as const))(
    '%s: panels sit on the 24-column grid without overlapping',
    (_file, d) => {
      const cells = new Map<string, string>();
      for (const p of allPanels(d)) {
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            const key = `${x},${y}`;
            expect({ cell: key, other: cells.get(key) }).toEqual({ cell: key, other: undefined });
            cells.set(key, p.title);
          }
        }
      }
    },
  );

  it.each(loadDashboards().map((f) => [f.file, f.dashboard] as const))(
    '%s: every variable a query uses is defined before it is used',
    (_file, d) => {
      const defined = new Set<string>();
      const used = (text: string) =>
        [...text.matchAll(/\$\{(\w+)[^}]*\}|\$(\w+)/g)].map((m) => m[1] ?? m[2]).filter((n) => !/^\d+$/.test(n));
      for (const v of d.templating.list) {
        const q = variableQuery(v);
        if (v.type === 'query' && q) {
          for (const name of used(q))
            expect({ variable: v.name, uses: name, defined: defined.has(name) }).toEqual({
              variable: v.name,
              uses: name,
              defined: true,
            });
          expect(() => parseLabelValues(q)).not.toThrow();
        }
        defined.add(v.name);
      }
      const queries = panelQueries(d);
      expect(queries.length).toBeGreaterThan(5);
      for (const q of queries) {
        for (const name of used(q.expr)) {
          expect({ panel: q.panel, uses: name, known: defined.has(name) || BUILTINS.has(name) }).toEqual({
            panel: q.panel,
            uses: name,
            known: true,
          });
        }
      }
    },
  );

  it("uses only DCGM fields of dcgm-exporter's default counter set and series a real vLLM serves", () => {
    const exprs = files.flatMap((f) => panelQueries(f.dashboard).map((q) => q.expr)).join('\n');
    const dcgmUsed = new Set(exprs.match(/DCGM_FI_[A-Z0-9_]+/g) ?? []);
    const vllmUsed = new Set(exprs.match(/vllm:[a-z0-9_]+/g) ?? []);
    expect(dcgmUsed.size).toBeGreaterThan(15);
    expect(vllmUsed.size).toBeGreaterThan(10);
    const counters = fs.readFileSync(path.join(FIXTURES_DIR, 'dcgm-exporter/default-counters.csv'), 'utf8');
    const defaultSet = new Set(
      counters
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .map((l) => l.split(',')[0].trim()),
    );
    expect([...dcgmUsed].filter((m) => !defaultSet.has(m))).toEqual([]);
    const scrape = fs.readFileSync(
      path.join(FIXTURES_DIR, 'vllm/vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt'),
      'utf8',
    );
    const served = new Set(
      scrape
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => /^[^{\s]+/.exec(l)?.[0]),
    );
    expect([...vllmUsed].filter((m) => !served.has(m))).toEqual([]);
  });

  it('provisions a Prometheus data source at the collector and a file provider for the dashboards', () => {
    const ds = parseYaml(fs.readFileSync(path.join(GRAFANA_DIR, 'provisioning/datasources/arcwatch.yaml'), 'utf8')) as {
      datasources: Array<{ type: string; url: string; jsonData: { timeInterval: string } }>;
    };
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]).toMatchObject({
      type: 'prometheus',
      url: 'http://127.0.0.1:9464',
      jsonData: { timeInterval: '15s' },
    });
    const boards = parseYaml(
      fs.readFileSync(path.join(GRAFANA_DIR, 'provisioning/dashboards/arcwatch.yaml'), 'utf8'),
    ) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(boards.providers[0]).toMatchObject({ type: 'file', options: { path: expect.stringMatching(/^\//) } });
  });
});

describe('Grafana query arithmetic', () => {
  const range = { startMs: 0, endMs: HOUR };
  const ds = { scrapeIntervalMs: 15_000, maxDataPoints: 1000 };

  it("works out $__interval and $__rate_interval from the data source's scrape interval", () => {
    expect(intervals({}, range, ds)).toEqual({ intervalMs: 15_000, stepMs: 15_000, rateIntervalMs: 60_000 });
    // Over a day the interval grows past the scrape interval: 86.4 s → 87 s, rate = 87 s + 15 s.
    expect(intervals({}, { startMs: 0, endMs: 24 * HOUR }, ds)).toEqual({
      intervalMs: 87_000,
      stepMs: 87_000,
      rateIntervalMs: 102_000,
    });
  });

  it("lets a panel's min interval stand in for the scrape interval", () => {
    expect(intervals({ minInterval: '1m' }, range, ds)).toEqual({
      intervalMs: 60_000,
      stepMs: 60_000,
      rateIntervalMs: 240_000,
    });
  });

  it('substitutes variables in every Grafana syntax and leaves label_replace references alone', () => {
    const s = {
      variables: { node: 'n1', gpu: '3' },
      range: { startMs: 0, endMs: 600_000 },
      intervalMs: 15_000,
      rateIntervalMs: 60_000,
    };
    expect(substitute('x{a=~"$node", b=~"${gpu}", c=~"[[node]]", d=~"${gpu:regex}"}[$__rate_interval]', s)).toBe(
      'x{a=~"n1", b=~"3", c=~"n1", d=~"3"}[60s]',
    );
    expect(substitute('label_replace(y, "m", "$1", "model_name", "(.*)") * $__range_s / $__interval_ms', s)).toBe(
      'label_replace(y, "m", "$1", "model_name", "(.*)") * 600 / 15000',
    );
    expect(substitute('increase(z[$__range])', s)).toBe('increase(z[600s])');
    expect(() => substitute('x{a="$tenant"}', s)).toThrow('no value for $tenant');
  });

  it('escapes regex characters the way Grafana does for multi-value variables', () => {
    expect(regexEscape('meta-llama/Llama-3.1-70B-Instruct')).toBe('meta-llama/Llama-3\\\\.1-70B-Instruct');
    expect(regexEscape('a(b)|c')).toBe('a\\\\(b\\\\)\\\\|c');
  });

  it('reads label_values() queries', () => {
    expect(parseLabelValues('label_values(DCGM_FI_DEV_GPU_UTIL{Hostname=~"$node"}, gpu)')).toEqual({
      label: 'gpu',
      match: 'DCGM_FI_DEV_GPU_UTIL{Hostname=~"$node"}',
    });
    expect(parseLabelValues('label_values(job)')).toEqual({ label: 'job' });
    expect(() => parseLabelValues('query_result(up)')).toThrow('not a label_values');
  });
});
