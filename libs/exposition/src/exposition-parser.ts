import { TextDecoder } from 'node:util';
import type { Labels } from '@arcwatch/contracts';
import type { FamilyTracker, MetadataKeyword, ParseSink } from './family-tracker';
import { LabelCache, type LabelEntry } from './label-cache';
import { isMetricNameChar, isValidMetricName, parseLabelBlock } from './labels';
import { OpenMetricsFamilies } from './openmetrics-families';
import { PrometheusFamilies } from './prometheus-families';
import { parseIntegerMs, parseNumber, parseSecondsAsMs } from './numbers';
import { DCGM_BLANK_MIN } from './types';
import type {
  BlankSentinelPolicy,
  Exemplar,
  ExpositionFormat,
  MetricFamily,
  ParseError,
  ParseErrorCode,
  ParseOptions,
  ParseResult,
  Sample,
} from './types';

const C_HASH = 35;
const C_OPEN = 123;
const C_SPACE = 32;
const C_TAB = 9;
const C_CR = 13;

const EMPTY_LABELS: Labels = Object.freeze({}) as Labels;

// The sample line's helpers from other modules, bound once: the CommonJS output reads an import
// through its module's getter at every use, several times a line.
const nameChar = isMetricNameChar;
const readNumber = parseNumber;
const readIntegerMs = parseIntegerMs;
const BLANK_MIN = DCGM_BLANK_MIN;

/** Thrown by a line reader to reject the line; turned into a `ParseError` with a column. */
class LineError {
  constructor(
    readonly at: number,
    readonly message: string,
  ) {}
}

/**
 * Streaming parser for text 0.0.4 and OpenMetrics 1.0. Feed the body with `push` (strings or
 * UTF-8 bytes, split anywhere) and call `end()` for the result. `takeSamples()` hands over the
 * samples read so far for callers that forward them while the body is still arriving.
 *
 * The hot path (a sample line) scans characters without regular expressions, reuses the
 * previous line's metric name when it repeats, and reuses one frozen label object per distinct
 * label text (`{…}` looked up by its first `}`; a hit is safe because the label grammar is read
 * left to right, so a text that once parsed completely up to that `}` always does).
 */
export class ExpositionParser {
  readonly format: ExpositionFormat;
  private readonly strict: boolean;
  private readonly blanks: BlankSentinelPolicy;
  private readonly labelCache: LabelCache;
  private lastEntry: LabelEntry | undefined;
  private readonly families: MetricFamily[] = [];
  private samples: Sample[] = [];
  private readonly errors: ParseError[] = [];
  private readonly tracker: FamilyTracker;
  private decoder: TextDecoder | undefined;
  private pending = '';
  private lineNo = 0;
  private dropped = 0;
  private sawEof = false;
  private afterEofReported = false;
  private ended = false;
  private prevName = '';
  /** The name of the last `# HELP` / `# TYPE` line read in place. */
  private metaName = '';
  private prevFamily = -1;

  constructor(options: ParseOptions = {}) {
    this.format = options.format ?? 'prometheus';
    this.strict = this.format === 'openmetrics';
    this.blanks = options.blankSentinels ?? 'dcgm';
    this.labelCache = options.labelCache ?? new LabelCache();
    const sink: ParseSink = {
      addFamily: (f) => this.families.push(f) - 1,
      family: (i) => this.families[i],
      error: (line, column, message, code) => this.addError(line, column, message, code),
    };
    this.tracker = this.strict ? new OpenMetricsFamilies(sink) : new PrometheusFamilies(sink);
  }

  push(chunk: string | Uint8Array): void {
    if (this.ended) throw new Error('ExpositionParser: push after end');
    const text = typeof chunk === 'string' ? chunk : this.decode(chunk, false);
    this.consume(this.pending.length === 0 ? text : this.pending + text, false);
  }

  /** Samples read since the last call (their `family` indices stay valid for `end()`'s result). */
  takeSamples(): Sample[] {
    const taken = this.samples;
    this.samples = [];
    return taken;
  }

  end(): ParseResult {
    if (!this.ended) {
      this.ended = true;
      const tail = this.decoder ? this.decode(new Uint8Array(0), true) : '';
      this.consume(this.pending + tail, true);
      this.tracker.finish(this.lineNo);
      if (this.strict && !this.sawEof)
        this.addError(Math.max(this.lineNo, 1), undefined, 'missing "# EOF" at the end', 'eof');
    }
    return {
      format: this.format,
      families: this.families,
      samples: this.samples,
      errors: this.errors,
      dropped: this.dropped,
      lines: this.lineNo,
    };
  }

  private decode(bytes: Uint8Array, final: boolean): string {
    this.decoder ??= new TextDecoder('utf-8', { fatal: true });
    try {
      return this.decoder.decode(bytes, { stream: !final });
    } catch {
      this.addError(this.lineNo + 1, undefined, 'body is not valid UTF-8', 'encoding');
      this.decoder = new TextDecoder('utf-8');
      return this.decoder.decode(bytes, { stream: !final });
    }
  }

  private consume(text: string, final: boolean): void {
    const n = text.length;
    let start = 0;
    while (start < n) {
      let nl = text.indexOf('\n', start);
      if (nl === -1) {
        if (!final) break;
        nl = n;
      }
      this.lineNo++;
      this.readLine(text, start, nl);
      start = nl + 1;
    }
    this.pending = start < n ? text.slice(start) : '';
  }

  private readLine(s: string, a: number, b: number): void {
    if (this.sawEof) {
      if (!this.afterEofReported) this.addError(this.lineNo, 1, 'content after "# EOF"', 'eof');
      this.afterEofReported = true;
      return;
    }
    if (!this.strict) {
      if (b > a && s.charCodeAt(b - 1) === C_CR) b--;
      while (a < b && (s.charCodeAt(a) === C_SPACE || s.charCodeAt(a) === C_TAB)) a++;
      if (a === b) return;
    } else if (a === b) {
      this.addError(this.lineNo, undefined, 'blank line', 'syntax');
      return;
    }
    try {
      if (s.charCodeAt(a) === C_HASH) {
        this.prevName = '';
        if (this.strict) this.readOpenMetricsComment(s.slice(a, b));
        else this.readPrometheusMetadata(s, a, b);
      } else {
        this.readSample(s, a, b);
      }
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      this.addError(this.lineNo, e.at - a + 1, e.message, 'syntax');
    }
  }

  /** OpenMetrics allows exactly `# HELP|TYPE|UNIT name text` (single spaces) and `# EOF`. */
  private readOpenMetricsComment(line: string): void {
    if (line === '# EOF') {
      this.sawEof = true;
      return;
    }
    const parts = splitN(line, 4);
    if (parts.length < 4 || parts[0] !== '#') {
      this.addError(
        this.lineNo,
        undefined,
        'comments other than "# HELP", "# TYPE", "# UNIT" and "# EOF" are not allowed',
        'syntax',
      );
      return;
    }
    const [, keyword, name, text] = parts;
    if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT') {
      this.addError(this.lineNo, 3, `unknown metadata "${keyword}"`, 'syntax');
      return;
    }
    if (!isValidMetricName(name)) {
      this.addError(this.lineNo, keyword.length + 4, `invalid metric name "${name}"`, 'syntax');
      return;
    }
    this.tracker.onMetadata(keyword, name, text, this.lineNo);
  }

  /**
   * Text 0.0.4's usual `# HELP name text` / `# TYPE name type`, single spaces: read in place.
   * Anything else goes to readPrometheusComment.
   */
  private readPrometheusMetadata(s: string, a: number, b: number): void {
    const keyword = metadataKeywordAt(s, a, b);
    const c = a + 7 < b ? s.charCodeAt(a + 7) : C_SPACE;
    if (keyword === undefined || c === C_SPACE || c === C_TAB) {
      this.readPrometheusComment(s.slice(a, b));
      return;
    }
    let nameEnd = a + 7;
    while (nameEnd < b) {
      const d = s.charCodeAt(nameEnd);
      if (d === C_SPACE || d === C_TAB) break;
      nameEnd++;
    }
    // HELP and TYPE of one family name it twice in a row.
    const meta = this.metaName;
    let name = meta;
    if (meta.length !== nameEnd - a - 7 || !textAt(s, a + 7, meta)) {
      const written = s.slice(a + 7, nameEnd);
      if (!isValidMetricName(written)) {
        this.addError(this.lineNo, undefined, `invalid metric name "${written}" in ${keyword}`, 'syntax');
        return;
      }
      name = this.intern(written);
    }
    this.metaName = name; // valid: a sample line may take it without scanning
    const text = nameEnd < b ? s.slice(nameEnd + 1, b) : '';
    if (keyword === 'TYPE') this.tracker.onMetadata('TYPE', name, text.trim(), this.lineNo);
    else this.tracker.onMetadata('HELP', name, text, this.lineNo);
  }

  /** Text 0.0.4: `# HELP`/`# TYPE` with any blanks between tokens; other comments are ignored. */
  private readPrometheusComment(line: string): void {
    const words = line.slice(1).trimStart();
    const keyword = words.slice(0, 4);
    if ((keyword !== 'HELP' && keyword !== 'TYPE') || !(words.length === 4 || words[4] === ' ' || words[4] === '\t'))
      return;
    const rest = words.slice(4).replace(/^[ \t]+/, '');
    const nameEnd = rest.search(/[ \t]|$/);
    const name = rest.slice(0, nameEnd);
    if (!isValidMetricName(name)) {
      this.addError(this.lineNo, undefined, `invalid metric name "${name}" in ${keyword}`, 'syntax');
      return;
    }
    // One blank separates the name from the text: HELP keeps any further leading blanks.
    const text = rest.slice(nameEnd + 1);
    if (keyword === 'TYPE') this.tracker.onMetadata('TYPE', name, text.trim(), this.lineNo);
    else this.tracker.onMetadata(keyword as MetadataKeyword, name, text, this.lineNo);
  }

  private readSample(s: string, a: number, b: number): void {
    const strict = this.strict;
    let i = a;
    // The previous sample's name, or else the last one a HELP/TYPE line named (its family's first sample).
    let name = this.prevName.length > 0 ? this.prevName : this.metaName;
    if (
      name.length > 0 &&
      textAt(s, i, name) &&
      !(i + name.length < b && nameChar(s.charCodeAt(i + name.length), false))
    ) {
      i += name.length;
    } else {
      while (i < b && nameChar(s.charCodeAt(i), i === a)) i++;
      if (i === a) throw new LineError(i, 'expected a metric name');
      name = this.intern(s.slice(a, i));
    }
    if (!strict) {
      // Text 0.0.4 allows blanks between the name and `{`.
      const j = skipBlanks(s, i, b);
      if (j < b && s.charCodeAt(j) === C_OPEN) i = j;
    }

    let labels = EMPTY_LABELS;
    if (i < b && s.charCodeAt(i) === C_OPEN) {
      const close = s.indexOf('}', i);
      let entry = close !== -1 && close < b ? this.labelCache.find(s.slice(i, close + 1), this.lastEntry) : undefined;
      if (entry !== undefined) {
        i = close + 1;
      } else {
        const block = parseLabelBlock(s, i, b, strict);
        if (!('labels' in block)) throw new LineError(block.at, block.message);
        entry = this.labelCache.add(s.slice(i, block.end), Object.freeze(block.labels), this.lastEntry);
        i = block.end;
      }
      this.lastEntry = entry;
      labels = entry.labels;
    }

    i = this.separator(s, i, b, 'value');
    const valueEnd = tokenEnd(s, i, b, strict);
    const value = readNumber(s, i, valueEnd);
    if (value === undefined) throw new LineError(i, `invalid value "${s.slice(i, valueEnd)}"`);
    i = valueEnd;

    let rawTs: number | undefined;
    let timestampMs: number | undefined;
    let exemplar: Exemplar | undefined;
    if (strict) {
      if (i < b) {
        i = this.separator(s, i, b, 'timestamp or exemplar');
        if (s.charCodeAt(i) !== C_HASH) {
          const tsEnd = tokenEnd(s, i, b, true);
          const ts = parseSecondsAsMs(s, i, tsEnd);
          if (ts === undefined) throw new LineError(i, `invalid timestamp "${s.slice(i, tsEnd)}"`);
          rawTs = ts.ns;
          timestampMs = ts.ms;
          i = tsEnd;
          if (i < b) i = this.separator(s, i, b, 'exemplar');
        }
        if (i < b) exemplar = readExemplar(s, i, b);
      }
    } else {
      i = skipBlanks(s, i, b);
      if (i < b) {
        const tsEnd = tokenEnd(s, i, b, false);
        timestampMs = readIntegerMs(s, i, tsEnd);
        if (timestampMs === undefined)
          throw new LineError(i, `invalid timestamp "${s.slice(i, tsEnd)}" (integer milliseconds expected)`);
        rawTs = timestampMs;
        i = skipBlanks(s, tsEnd, b);
        if (i < b) throw new LineError(i, 'unexpected text after the timestamp');
      }
    }

    if (value >= BLANK_MIN && this.isBlankSentinel(name)) {
      this.dropped++;
      return;
    }
    const sample: Sample = new ParsedSample(name, labels, value, timestampMs, exemplar);
    if (!strict && name === this.prevName) sample.family = this.prevFamily;
    else sample.family = this.tracker.onSample(sample, rawTs, this.lineNo);
    this.prevName = name;
    this.prevFamily = sample.family;
    this.samples.push(sample);
  }

  /** OpenMetrics: exactly one space; text 0.0.4: one or more blanks. */
  private separator(s: string, i: number, b: number, what: string): number {
    const c = i < b ? s.charCodeAt(i) : -1;
    if (c !== C_SPACE && (this.strict || c !== C_TAB)) throw new LineError(i, `expected a space before the ${what}`);
    i++;
    if (!this.strict) i = skipBlanks(s, i, b);
    if (i >= b || (this.strict && s.charCodeAt(i) === C_SPACE)) throw new LineError(i, `missing ${what}`);
    return i;
  }

  private isBlankSentinel(name: string): boolean {
    if (this.blanks === 'none') return false;
    if (this.blanks === 'all') return true;
    const c = name.charCodeAt(0);
    return (c === 68 || c === 100) && name.length > 5 && name.slice(0, 5).toUpperCase() === 'DCGM_';
  }

  private intern(name: string): string {
    return this.labelCache.name(name);
  }

  private addError(line: number, column: number | undefined, message: string, code: ParseErrorCode): void {
    this.errors.push(column === undefined ? { line, message, code } : { line, column, message, code });
  }
}

/**
 * A sample as the parser makes it: a plain data object with the `Sample` fields, built by a
 * constructor rather than an object literal. V8 moves a literal's allocation site to the old
 * generation once its objects keep surviving young collections, as a parse's samples do until it
 * ends; the fleet scrape then took twice as long, depending on what else ran in the process.
 */
class ParsedSample implements Sample {
  family = -1;
  constructor(
    readonly name: string,
    readonly labels: Labels,
    readonly value: number,
    readonly timestampMs: number | undefined,
    readonly exemplar: Exemplar | undefined,
  ) {}
}

/** `HELP` or `TYPE` when the line starts `# HELP ` or `# TYPE ` (`s[a]` is the `#`). */
function metadataKeywordAt(s: string, a: number, b: number): 'HELP' | 'TYPE' | undefined {
  if (a + 7 > b || s.charCodeAt(a + 1) !== C_SPACE || s.charCodeAt(a + 6) !== C_SPACE) return undefined;
  const c = s.charCodeAt(a + 2);
  if (c === 72 && s.charCodeAt(a + 3) === 69 && s.charCodeAt(a + 4) === 76 && s.charCodeAt(a + 5) === 80) return 'HELP';
  if (c === 84 && s.charCodeAt(a + 3) === 89 && s.charCodeAt(a + 4) === 80 && s.charCodeAt(a + 5) === 69) return 'TYPE';
  return undefined;
}

/** ` # {labels} value [timestamp]` after a sample (OpenMetrics only); `s[i]` is the `#`. */
function readExemplar(s: string, i: number, b: number): Exemplar {
  if (s.charCodeAt(i) !== C_HASH || s.charCodeAt(i + 1) !== C_SPACE || s.charCodeAt(i + 2) !== C_OPEN) {
    throw new LineError(i, 'expected an exemplar "# {…}"');
  }
  const block = parseLabelBlock(s, i + 2, b, true);
  if (!('labels' in block)) throw new LineError(block.at, `exemplar: ${block.message}`);
  i = block.end;
  if (i >= b || s.charCodeAt(i) !== C_SPACE) throw new LineError(i, 'expected a space before the exemplar value');
  i++;
  const valueEnd = tokenEnd(s, i, b, true);
  const value = parseNumber(s, i, valueEnd);
  if (value === undefined) throw new LineError(i, `invalid exemplar value "${s.slice(i, valueEnd)}"`);
  const exemplar: Exemplar = { labels: block.labels, value };
  if (valueEnd < b) {
    i = valueEnd + 1;
    if (i >= b) throw new LineError(valueEnd, 'trailing space after the exemplar value');
    const ts = parseSecondsAsMs(s, i, b);
    if (ts === undefined) throw new LineError(i, `invalid exemplar timestamp "${s.slice(i, b)}"`);
    exemplar.timestampMs = ts.ms;
  }
  return exemplar;
}

/**
 * Whether `s` holds `t` at `i`. A plain loop: `String.prototype.startsWith` with a position was
 * a third of a sample line's time in a profile of the fleet scrape.
 */
function textAt(s: string, i: number, t: string): boolean {
  const n = t.length;
  if (i + n > s.length) return false;
  for (let j = 0; j < n; j++) if (s.charCodeAt(i + j) !== t.charCodeAt(j)) return false;
  return true;
}

function skipBlanks(s: string, i: number, b: number): number {
  while (i < b) {
    const c = s.charCodeAt(i);
    if (c !== C_SPACE && c !== C_TAB) break;
    i++;
  }
  return i;
}

function tokenEnd(s: string, i: number, b: number, strict: boolean): number {
  while (i < b) {
    const c = s.charCodeAt(i);
    if (c === C_SPACE || (!strict && c === C_TAB)) break;
    i++;
  }
  return i;
}

/** Like Python's `str.split(' ', n - 1)`: at most `n` parts, the last keeps its spaces. */
function splitN(line: string, n: number): string[] {
  const parts: string[] = [];
  let from = 0;
  while (parts.length < n - 1) {
    const sp = line.indexOf(' ', from);
    if (sp === -1) break;
    parts.push(line.slice(from, sp));
    from = sp + 1;
  }
  parts.push(line.slice(from));
  return parts;
}

/** Parses a whole body at once. */
export function parseExposition(text: string | Uint8Array, options: ParseOptions = {}): ParseResult {
  const parser = new ExpositionParser(options);
  parser.push(text);
  return parser.end();
}
