/** label_replace, label_join, sort_by_label and absent: functions that work on label sets. */
import { anchoredRegex } from './selectors';
import type { Labels } from '@arcwatch/contracts';
import type { Expr } from './ast';
import { executionError } from './errors';
import type { CallContext } from './functions';
import { METRIC_NAME, compareLabels, outputKey, type Sample, type Value } from './values';

/** Label names are any valid UTF-8; U+FFFD stands for bytes that were not (see unquoteString). */
export function isValidLabelName(name: string): boolean {
  return name !== '' && !name.includes('\uFFFD');
}

/** Go's %q for names in messages: invalid bytes are shown as they were written. */
function quoteName(name: string): string {
  return JSON.stringify(name).replace(/\uFFFD/g, '\\ufffd');
}

function setLabel(s: Sample, name: string, value: string): Sample {
  const labels: Labels = { ...s.labels };
  if (value === '') delete labels[name];
  else labels[name] = value;
  // Writing __name__ on purpose revives the name that an earlier function marked for removal.
  return { labels, value: s.value, dropName: name === METRIC_NAME ? false : s.dropName };
}

function assertUniqueLabelSets(samples: Sample[]): void {
  const seen = new Set<string>();
  for (const s of samples) {
    const key = outputKey(s);
    if (seen.has(key)) throw executionError('vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
}

/** Expands `$1`, `${1}`, `$name`, `${name}` and `$$` as Go's Regexp.Expand does. */
function expandTemplate(template: string, m: RegExpExecArray): string {
  return template.replace(
    /\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g,
    (_all, tok: string, braced?: string, bare?: string) => {
      if (tok === '$') return '$';
      const name = braced ?? bare ?? '';
      if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
      return m.groups?.[name] ?? '';
    },
  );
}

export function labelReplace(ctx: CallContext): Value {
  const { ev, call, t } = ctx;
  const samples = ev.evalVector(call.args[0], t);
  const [dst, replacement, src, pattern] = call.args.slice(1).map((a) => ev.evalString(a, t));
  let re: RegExp;
  try {
    re = anchoredRegex(pattern);
  } catch (err) {
    throw executionError(`invalid regular expression in label_replace(): ${pattern}: ${(err as Error).message}`);
  }
  if (!isValidLabelName(dst))
    throw executionError(`invalid destination label name in label_replace(): ${quoteName(dst)}`);
  const out = samples.map((s) => {
    const m = re.exec(s.labels[src] ?? '');
    return m ? setLabel(s, dst, expandTemplate(replacement, m)) : s;
  });
  assertUniqueLabelSets(out);
  return { type: 'vector', samples: out };
}

export function labelJoin(ctx: CallContext): Value {
  const { ev, call, t } = ctx;
  const samples = ev.evalVector(call.args[0], t);
  const [dst, sep, ...srcs] = call.args.slice(1).map((a) => ev.evalString(a, t));
  if (!isValidLabelName(dst)) throw executionError(`invalid destination label name in label_join(): ${quoteName(dst)}`);
  for (const src of srcs)
    if (!isValidLabelName(src)) throw executionError(`invalid source label name in label_join(): ${quoteName(src)}`);
  const out = samples.map((s) => setLabel(s, dst, srcs.map((src) => s.labels[src] ?? '').join(sep)));
  assertUniqueLabelSets(out);
  return { type: 'vector', samples: out };
}

/** Natural order: digit runs compare as numbers, everything else as text. */
export function naturalCompare(a: string, b: string): number {
  const ca = a.match(/\d+|\D+/g) ?? [];
  const cb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i];
    const y = cb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

export function sortByLabel(ctx: CallContext, desc: boolean): Value {
  const { ev, call, t } = ctx;
  const samples = [...ev.evalVector(call.args[0], t)];
  const names = call.args.slice(1).map((a) => ev.evalString(a, t));
  const dir = desc ? -1 : 1;
  samples.sort((a, b) => {
    for (const n of names) {
      const c = naturalCompare(a.labels[n] ?? '', b.labels[n] ?? '');
      if (c !== 0) return dir * c;
    }
    return dir * compareLabels(a.labels, b.labels);
  });
  return { type: 'vector', samples };
}

/** absent()/absent_over_time(): 1 with the labels the selector pinned by equality, when nothing matched. */
export function absent(_ctx: CallContext, present: boolean, arg: Expr): Value {
  if (present) return { type: 'vector', samples: [] };
  const matchers =
    arg.kind === 'vectorSelector' ? arg.matchers : arg.kind === 'matrixSelector' ? arg.selector.matchers : [];
  const labels: Labels = {};
  // A label constrained twice, or by anything but equality, has no single value to report.
  const ambiguous = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !(m.name in labels) && !ambiguous.has(m.name)) {
      if (m.value !== '') labels[m.name] = m.value;
    } else {
      delete labels[m.name];
      ambiguous.add(m.name);
    }
  }
  return { type: 'vector', samples: [{ labels, value: 1 }] };
}
