/**
 * Go (RE2) regular expressions run on JavaScript's engine. Alertmanager compiles every regex
 * matcher with Go's `regexp`; the two syntaxes overlap but differ at the edges, so the pattern is
 * rewritten: named groups `(?P<n>`, flag groups `(?i)`, `\z` / `\A`, `\Q…\E`, POSIX classes
 * `[[:alpha:]]`, `\pL`, `\x{…}`, literal braces, and escaped punctuation that JavaScript's
 * unicode mode refuses. What RE2 rejects (look-arounds, back-references) is rejected here too,
 * so a config that Alertmanager refuses is refused by ArcWatch as well.
 */
export class GoRegexpError extends Error {
  readonly code = 'INVALID_REGEXP' as const;
  constructor(message: string) {
    super(`error parsing regexp: ${message}`);
    this.name = 'GoRegexpError';
  }
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));
const PERL_CLASSES = new Set('dDwWsS'.split(''));

function escapeLiteral(ch: string, inClass: boolean): string {
  if (SYNTAX_CHARS.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

/** Rewrites an RE2 pattern into an equivalent JavaScript `u`-mode pattern; throws GoRegexpError. */
export function translateGoRegexp(src: string): string {
  const cps = Array.from(src);
  let out = '';
  let i = 0;
  // Open groups; a flag group `(?i)` closes where its enclosing group closes.
  const groups: { extraClose: number }[] = [{ extraClose: 0 }];
  const err = (m: string): never => {
    throw new GoRegexpError(m);
  };

  const readEscape = (inClass: boolean): string => {
    const c = cps[i + 1];
    if (c === undefined) return err('trailing backslash at end of expression: ``');
    i += 2;
    if (c === 'Q') {
      let lit = '';
      while (i < cps.length && !(cps[i] === '\\' && cps[i + 1] === 'E')) lit += escapeLiteral(cps[i++], inClass);
      if (i < cps.length) i += 2;
      return lit;
    }
    if (c === 'z') return inClass ? err('invalid escape sequence: `\\z`') : '(?![\\s\\S])';
    if (c === 'A') return inClass ? err('invalid escape sequence: `\\A`') : '(?<![\\s\\S])';
    if (c === 'b' || c === 'B') return inClass ? err(`invalid escape sequence: \`\\${c}\``) : `\\${c}`;
    if (PERL_CLASSES.has(c)) return `\\${c}`;
    if ('ntrfv'.includes(c)) return `\\${c}`;
    if (c === 'a') return '\\x07';
    if (c === 'p' || c === 'P') {
      if (cps[i] === '{') {
        const end = cps.indexOf('}', i);
        if (end < 0) return err(`invalid character class range: \`\\${c}{\``);
        const name = cps.slice(i + 1, end).join('');
        i = end + 1;
        return name === 'Any' ? (c === 'p' ? '[\\s\\S]' : '[^\\s\\S]') : `\\${c}{${name}}`;
      }
      const name = cps[i++];
      if (name === undefined) return err(`invalid character class range: \`\\${c}\``);
      return `\\${c}{${name}}`;
    }
    if (c === 'x') {
      if (cps[i] === '{') {
        const end = cps.indexOf('}', i);
        const hex = end < 0 ? '' : cps.slice(i + 1, end).join('');
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) return err('invalid escape sequence: `\\x{`');
        i = end + 1;
        return `\\u{${hex}}`;
      }
      const hex = cps.slice(i, i + 2).join('');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return err(`invalid escape sequence: \`\\x${hex}\``);
      i += 2;
      return `\\x${hex}`;
    }
    if (c >= '0' && c <= '7') {
      // Octal escapes; `\1`…`\9` would be back-references, which RE2 does not have.
      if (c !== '0' && !(cps[i] >= '0' && cps[i] <= '7')) return err(`invalid escape sequence: \`\\${c}\``);
      let oct = c;
      while (oct.length < 3 && cps[i] >= '0' && cps[i] <= '7') oct += cps[i++];
      return `\\u{${parseInt(oct, 8).toString(16)}}`;
    }
    if (/[0-9A-Za-z]/.test(c)) return err(`invalid escape sequence: \`\\${c}\``);
    return escapeLiteral(c, inClass);
  };

  const readClass = (): string => {
    let cls = '[';
    i++;
    if (cps[i] === '^') {
      cls += '^';
      i++;
    }
    let first = true;
    while (i < cps.length) {
      const c = cps[i];
      if (c === ']' && !first) {
        i++;
        return `${cls}]`;
      }
      first = false;
      if (c === '[' && cps[i + 1] === ':') {
        const end = cps.indexOf(']', i);
        const body = end < 0 ? '' : cps.slice(i + 2, end).join('');
        const m = /^(\^?)([a-z]+):$/.exec(body);
        if (m && POSIX_CLASSES[m[2]] !== undefined) {
          if (m[1]) return err(`invalid character class range: \`[:${body}]\``);
          cls += POSIX_CLASSES[m[2]];
          i = end + 1;
          continue;
        }
      }
      if (c === '\\') {
        cls += readEscape(true);
        continue;
      }
      cls += c === '-' ? '-' : escapeLiteral(c, true).replace(/^\\-$/, '-');
      i++;
    }
    return err(`missing closing ]: \`${cps.slice(cps.lastIndexOf('[')).join('')}\``);
  };

  while (i < cps.length) {
    const c = cps[i];
    if (c === '\\') {
      out += readEscape(false);
    } else if (c === '[') {
      out += readClass();
    } else if (c === '(') {
      if (cps[i + 1] === '?') {
        const rest = cps.slice(i + 2).join('');
        const named = /^P?<([A-Za-z0-9_]+)>/.exec(rest);
        const flags = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
        if (named) {
          out += `(?<${named[1]}>`;
          i += 2 + named[0].length;
          groups.push({ extraClose: 0 });
        } else if (flags && (flags[1] || flags[2] !== undefined || flags[3] === ':')) {
          const on = (flags[1] ?? '').replace(/U/g, '');
          const off = (flags[2] ?? '').replace(/U/g, '');
          const mod = on || off ? `(?${on}${off ? `-${off}` : ''}:` : '(?:';
          i += 2 + flags[0].length;
          if (flags[3] === ':') {
            out += mod;
            groups.push({ extraClose: 0 });
          } else {
            out += mod;
            groups[groups.length - 1].extraClose++;
          }
        } else {
          return err(`invalid or unsupported Perl syntax: \`(?${cps[i + 2] ?? ''}\``);
        }
      } else {
        out += '(';
        i++;
        groups.push({ extraClose: 0 });
      }
    } else if (c === ')') {
      const g = groups.pop();
      if (!g || groups.length === 0) return err(`unexpected ): \`${src}\``);
      out += ')'.repeat(g.extraClose) + ')';
      i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(cps.slice(i).join(''));
      if (m && out !== '' && !/[(|]$/.test(out)) {
        if (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 1000)) {
          return err(`invalid repeat count: \`${m[0]}\``);
        }
        out += m[0];
        i += m[0].length;
      } else {
        out += '\\{';
        i++;
      }
    } else if (c === '}') {
      out += '\\}';
      i++;
    } else if (c === '/') {
      out += '\\/';
      i++;
    } else if ((c === '*' || c === '+' || c === '?') && (out === '' || /(?:^|[^\\])[(|]$/.test(out))) {
      return err(`missing argument to repetition operator: \`${c}\``);
    } else {
      out += c;
      i++;
    }
  }
  if (groups.length !== 1) return err(`missing closing ): \`${src}\``);
  return out + ')'.repeat(groups[0].extraClose);
}

const cache = new Map<string, RegExp>();

/** Compiles `^(?:pattern)$` as Alertmanager does (fully anchored); throws GoRegexpError. */
export function compileAnchored(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  const body = translateGoRegexp(pattern);
  try {
    re = new RegExp(`^(?:${body})$`, 'u');
  } catch (e) {
    throw new GoRegexpError((e as Error).message.replace(/^Invalid regular expression: /, ''));
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Validates an unanchored RE2 pattern (silence matchers are checked this way); throws GoRegexpError. */
export function compileUnanchored(pattern: string): RegExp {
  const body = translateGoRegexp(pattern);
  try {
    return new RegExp(body, 'u');
  } catch (e) {
    throw new GoRegexpError((e as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}
