/**
 * The Prometheus API's success body for a query result, written as text straight from the
 * numeric result. `JSON.stringify(formatResult(…))` first builds a `[t, "v"]` array per point
 * (180,000 for a 6 h range at 15 s over 125 series) only to turn it into text again; this writes
 * the same bytes without them (`response-json.spec.ts` compares the two).
 */
import type { RawQueryResult } from './engine';
import { formatPromValue } from './literals';

const point = (ms: number, v: string): string => `[${ms / 1000},"${v}"]`;

/**
 * `JSON.stringify({status: 'success', data: {resultType, result}, warnings?, infos?})` of what
 * `formatResult` returns, warnings and infos only when there are some.
 */
export function successResponseJson(raw: RawQueryResult): string {
  const r = raw.result;
  let data: string;
  switch (r.type) {
    case 'scalar':
      data = `{"resultType":"scalar","result":${point(r.timeMs, formatPromValue(r.value))}}`;
      break;
    case 'string':
      data = `{"resultType":"string","result":[${r.timeMs / 1000},${JSON.stringify(r.value)}]}`;
      break;
    case 'vector': {
      const parts = new Array<string>(r.samples.length);
      for (let i = 0; i < r.samples.length; i++) {
        const s = r.samples[i];
        parts[i] = `{"metric":${JSON.stringify(s.labels)},"value":${point(r.timeMs, formatPromValue(s.value))}}`;
      }
      data = `{"resultType":"vector","result":[${parts.join(',')}]}`;
      break;
    }
    case 'matrix': {
      // Series of a range query share the step grid: each step's `[t,"` is written once, not once
      // per series (a float's shortest decimal form costs about as much as the rest of the point).
      const heads = new Map<number, string>();
      const parts = new Array<string>(r.series.length);
      for (let i = 0; i < r.series.length; i++) {
        const s = r.series[i];
        const n = s.timestamps.length;
        const points = new Array<string>(n);
        for (let j = 0; j < n; j++) {
          const t = s.timestamps[j];
          let head = heads.get(t);
          if (head === undefined) heads.set(t, (head = `[${t / 1000},"`));
          points[j] = `${head}${formatPromValue(s.values[j])}"]`;
        }
        parts[i] = `{"metric":${JSON.stringify(s.labels)},"values":[${points.join(',')}]}`;
      }
      data = `{"resultType":"matrix","result":[${parts.join(',')}]}`;
      break;
    }
  }
  let out = `{"status":"success","data":${data}`;
  if (raw.warnings.length > 0) out += `,"warnings":${JSON.stringify(raw.warnings)}`;
  if (raw.infos.length > 0) out += `,"infos":${JSON.stringify(raw.infos)}`;
  return `${out}}`;
}
