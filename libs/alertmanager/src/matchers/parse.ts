import { parseClassicMatcher, parseClassicMatchers } from './classic-parse';
import { MatcherError, type Matcher, type MatcherMode } from './matcher';
import { parseUtf8Matcher, parseUtf8Matchers } from './utf8-parse';

function same(a: readonly Matcher[], b: readonly Matcher[]): boolean {
  return (
    a.length === b.length && a.every((m, i) => m.name === b[i].name && m.type === b[i].type && m.value === b[i].value)
  );
}

/**
 * A list of matchers as Alertmanager reads config `matchers:` lines and amtool arguments, per
 * mode. In fallback mode both parsers run; where the UTF-8 parser fails or disagrees, the classic
 * answer wins (Alertmanager logs a warning and does the same).
 */
export function parseMatchers(input: string, mode: MatcherMode = 'fallback'): Matcher[] {
  if (mode === 'classic') return parseClassicMatchers(input);
  if (mode === 'utf8') return parseUtf8Matchers(input);
  let utf8: Matcher[] | undefined;
  try {
    utf8 = parseUtf8Matchers(input);
  } catch {
    utf8 = undefined;
  }
  let classic: Matcher[] | undefined;
  let classicErr: unknown;
  try {
    classic = parseClassicMatchers(input);
  } catch (e) {
    classicErr = e;
  }
  if (utf8 === undefined) {
    if (classic === undefined) throw classicErr;
    return classic;
  }
  if (classic !== undefined && !same(utf8, classic)) return classic;
  return utf8;
}

/** Exactly one matcher (amtool's `label=value` arguments, silence matchers on the command line). */
export function parseMatcher(input: string, mode: MatcherMode = 'fallback'): Matcher {
  if (mode === 'classic') return parseClassicMatcher(input);
  if (input.startsWith('{') || input.endsWith('}')) throw new MatcherError(`unexpected open or close brace: ${input}`);
  if (mode === 'utf8') return parseUtf8Matcher(input);
  let utf8: Matcher | undefined;
  try {
    utf8 = parseUtf8Matcher(input);
  } catch {
    utf8 = undefined;
  }
  let classic: Matcher | undefined;
  let classicErr: unknown;
  try {
    classic = parseClassicMatcher(input);
  } catch (e) {
    classicErr = e;
  }
  if (utf8 === undefined) {
    if (classic === undefined) throw classicErr;
    return classic;
  }
  if (classic !== undefined && !same([utf8], [classic])) return classic;
  return utf8;
}
