import { compileUnanchored } from '../matchers/go-regexp';
import {
  isValidLabelName,
  isWellFormed,
  matchesLabels,
  MATCH_TYPES,
  type LabelSet,
  type Matcher,
  type MatcherMode,
} from '../matchers/matcher';

/**
 * Silences: a silence mutes an alert while active (startsAt ≤ now < endsAt) when every matcher of
 * one of its matcher sets matches. Validation follows Alertmanager's storage-layer rules and
 * wording.
 */
export interface Silence {
  id: string;
  /** OR of AND-sets; Alertmanager's API v2 always sends exactly one set. */
  matcherSets: Matcher[][];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
  updatedAt: Date;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: Date): SilenceState {
  if (now.getTime() < s.startsAt.getTime()) return 'pending';
  if (now.getTime() < s.endsAt.getTime()) return 'active';
  return 'expired';
}

export function silenceMatches(s: Pick<Silence, 'matcherSets'>, labels: LabelSet): boolean {
  return s.matcherSets.some((set) => matchesLabels(set, labels));
}

/** IDs of the silences that mute these labels now. */
export function silencedBy(silences: Iterable<Silence>, labels: LabelSet, now: Date): string[] {
  const out: string[] = [];
  for (const s of silences) if (silenceState(s, now) === 'active' && silenceMatches(s, labels)) out.push(s.id);
  return out;
}

/** A matcher as it arrives at the storage layer: the type may be unknown, the value raw bytes. */
export interface RawMatcher {
  name: string;
  type: string;
  value: string | Uint8Array;
}

function utf8(value: string | Uint8Array): string | undefined {
  if (typeof value === 'string') return isWellFormed(value) ? value : undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return undefined;
  }
}

export function validateMatcher(m: RawMatcher, mode: MatcherMode): string | undefined {
  if (!isValidLabelName(m.name, mode)) return `invalid label name ${JSON.stringify(m.name)}`;
  const v = utf8(m.value);
  switch (m.type) {
    case '=':
    case '!=':
      if (v === undefined) return `invalid label value ${JSON.stringify(String(m.value))}`;
      return undefined;
    case '=~':
    case '!~':
      try {
        compileUnanchored(v ?? '');
      } catch (e) {
        return `invalid regular expression ${JSON.stringify(v)}: ${(e as Error).message}`;
      }
      return undefined;
    default:
      return `unknown matcher type ${JSON.stringify(m.type)}`;
  }
}

function matchesEmpty(m: RawMatcher): boolean {
  if (m.type === '=') return m.value === '';
  if (m.type === '=~') {
    try {
      return compileUnanchored(utf8(m.value) ?? '').test('');
    } catch {
      return false;
    }
  }
  return false;
}

export interface RawSilence {
  matcherSets: RawMatcher[][];
  startsAt: Date | null;
  endsAt: Date | null;
}

/** undefined when valid, else Alertmanager's message. */
export function validateSilence(s: RawSilence, mode: MatcherMode): string | undefined {
  if (s.matcherSets.length === 0) return 'at least one matcher set required';
  for (const [setIdx, set] of s.matcherSets.entries()) {
    if (set.length === 0) return `matcher set ${setIdx} is empty`;
    let allEmpty = true;
    for (const [i, m] of set.entries()) {
      const err = validateMatcher(m, mode);
      if (err) return `invalid label matcher ${i} in set ${setIdx}: ${err}`;
      allEmpty = allEmpty && matchesEmpty(m);
    }
    if (allEmpty) return `matcher set ${setIdx}: at least one matcher must not match the empty string`;
  }
  if (!s.startsAt || s.startsAt.getTime() <= 0) return 'invalid zero start timestamp';
  if (!s.endsAt || s.endsAt.getTime() <= 0) return 'invalid zero end timestamp';
  if (s.endsAt.getTime() < s.startsAt.getTime()) return 'end time must not be before start time';
  return undefined;
}

export const isMatchType = (t: string): t is Matcher['type'] => (MATCH_TYPES as readonly string[]).includes(t);
