import { GoRegexpError } from './go-regexp';
import { isWellFormed, MatcherError, newMatcher, type MatchType, type Matcher } from './matcher';

/**
 * The classic matcher parser (Alertmanager's pkg/labels, amtool before 0.27 and
 * `--enable-feature=classic-mode`): a list split on commas outside quotes, each element
 * `name op value` with an optional quoted value and `\n`, `\"`, `\\` escapes.
 */
const MATCHER_RE = /^[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*([\s\S]*?)[\t\n\f\r ]*$/;

export function parseClassicMatchers(input: string): Matcher[] {
  let s = input.startsWith('{') ? input.slice(1) : input;
  if (s.endsWith('}')) s = s.slice(0, -1);
  const tokens: string[] = [];
  let insideQuotes = false;
  let escaped = false;
  let token = '';
  for (const ch of s) {
    if (ch === ',' && !insideQuotes) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (ch === '"') {
      if (!escaped) insideQuotes = !insideQuotes;
      else escaped = false;
    } else if (ch === '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += ch;
  }
  const last = token.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, '');
  if (last !== '') tokens.push(last);
  return tokens.map(parseClassicMatcher);
}

export function parseClassicMatcher(s: string): Matcher {
  const ms = MATCHER_RE.exec(s);
  if (!ms) throw new MatcherError(`bad matcher format: ${s}`);
  const [, name, op, raw] = ms;
  let rawValue = raw;
  let expectTrailingQuote = false;
  if (rawValue.startsWith('"')) {
    rawValue = rawValue.slice(1);
    expectTrailingQuote = true;
  }
  if (!isWellFormed(rawValue)) throw new MatcherError(`matcher value not valid UTF-8: ${raw}`);
  const chars = Array.from(rawValue);
  let value = '';
  let escaped = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const isLast = i === chars.length - 1;
    if (escaped) {
      escaped = false;
      if (ch === 'n') value += '\n';
      else if (ch === '"' || ch === '\\') value += ch;
      else value += `\\${ch}`; // a spurious escape stays literal
      continue;
    }
    if (ch === '\\') {
      if (!isLast) {
        escaped = true;
        continue;
      }
      value += '\\';
    } else if (ch === '"') {
      if (!expectTrailingQuote || !isLast)
        throw new MatcherError(`matcher value contains unescaped double quote: ${raw}`);
      expectTrailingQuote = false;
    } else {
      value += ch;
    }
  }
  if (expectTrailingQuote) throw new MatcherError(`matcher value contains unescaped double quote: ${raw}`);
  try {
    return newMatcher(op as MatchType, name, value);
  } catch (e) {
    if (e instanceof GoRegexpError) throw new MatcherError(e.message);
    throw e;
  }
}
