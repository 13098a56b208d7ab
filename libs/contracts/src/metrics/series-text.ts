import type { Labels } from './series';

/**
 * The text form of a series identity in `io.arcwatch.metrics.batch.v2`: the exposition's
 * `name{a="x",b="y"}` with labels sorted by name (JS string order). A name or label name outside
 * the classic character set is quoted, as Prometheus 3 writes UTF-8 names: `{"my.metric",a="x"}`.
 * Values escape `\`, `"` and newline. Empty values are kept, so the text carries exactly the
 * label set it was made from (an empty value still means an absent label to the store).
 *
 * A producer writes it once per series and keeps it; a consumer maps the whole string to a
 * series id through a cache and only reads it back into labels for a series it has not seen.
 */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c === 0x0a) out += '\\n';
    else out += s[i];
  }
  return `${out}"`;
}

export function formatSeriesText(labels: Labels): string {
  const name = labels.__name__;
  const names = Object.keys(labels)
    .filter((n) => n !== '__name__')
    .sort();
  const parts: string[] = [];
  let head = '';
  if (name !== undefined) {
    if (METRIC_NAME.test(name)) head = name;
    else parts.push(quote(name));
  }
  for (const n of names) parts.push(`${LABEL_NAME.test(n) ? n : quote(n)}=${quote(labels[n]!)}`);
  if (parts.length === 0 && head !== '') return head;
  return `${head}{${parts.join(',')}}`;
}

export class SeriesTextError extends Error {}

function fail(text: string, at: number, what: string): never {
  throw new SeriesTextError(
    `series text ${JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text)} at ${at}: ${what}`,
  );
}

/** Reads a quoted string starting at `i` (the opening quote); returns its value and the index after it. */
function readQuoted(text: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  let from = j;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return [out + text.slice(from, j), j + 1];
    if (c !== 0x5c) continue;
    out += text.slice(from, j);
    const e = text[j + 1];
    if (e === '\\') out += '\\';
    else if (e === '"') out += '"';
    else if (e === 'n') out += '\n';
    else fail(text, j, `unknown escape \\${e ?? ''}`);
    j++;
    from = j + 1;
  }
  return fail(text, i, 'unterminated quoted string');
}

function readName(text: string, i: number, re: RegExp): [string, number] {
  if (text[i] === '"') return readQuoted(text, i);
  let j = i;
  while (j < text.length && /[a-zA-Z0-9_:]/.test(text[j]!)) j++;
  const name = text.slice(i, j);
  if (!re.test(name)) fail(text, i, 'expected a name');
  return [name, j];
}

/** The label set of a series text, `__name__` included when the text names a metric. Throws SeriesTextError. */
export function parseSeriesText(text: string): Labels {
  const labels: Labels = {};
  let i = 0;
  if (text.length > 0 && text[0] !== '{') {
    const [name, next] = readName(text, 0, METRIC_NAME);
    labels.__name__ = name;
    i = next;
    if (i === text.length) return labels;
  }
  if (text[i] !== '{') fail(text, i, 'expected "{"');
  i++;
  let first = true;
  while (text[i] !== '}') {
    if (i >= text.length) fail(text, i, 'expected "}"');
    if (!first) {
      if (text[i] !== ',') fail(text, i, 'expected "," or "}"');
      i++;
    }
    const quotedName = text[i] === '"';
    const [name, afterName] = readName(text, i, LABEL_NAME);
    if (text[afterName] !== '=') {
      // `{"my.metric",…}`: a quoted metric name, allowed first and only without a bare name
      if (
        first &&
        quotedName &&
        labels.__name__ === undefined &&
        (text[afterName] === ',' || text[afterName] === '}')
      ) {
        labels.__name__ = name;
        i = afterName;
        first = false;
        continue;
      }
      fail(text, afterName, 'expected "="');
    }
    if (text[afterName + 1] !== '"') fail(text, afterName + 1, 'expected a quoted value');
    const [value, afterValue] = readQuoted(text, afterName + 1);
    if (Object.hasOwn(labels, name)) fail(text, i, `label ${name} repeated`);
    labels[name] = value;
    i = afterValue;
    first = false;
  }
  if (i !== text.length - 1) fail(text, i + 1, 'text after "}"');
  return labels;
}
