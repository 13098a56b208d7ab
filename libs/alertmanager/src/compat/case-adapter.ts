import { parseDuration } from '@arcwatch/config-files';
import {
  AlertmanagerConfigError,
  parseAlertmanagerConfig,
  type AlertmanagerConfig,
} from '../config/alertmanager-config';
import { inhibitedBy } from '../inhibit/inhibit';
import { parseClassicMatcher, parseClassicMatchers } from '../matchers/classic-parse';
import { MatcherError, type LabelSet, type Matcher, type MatcherMode } from '../matchers/matcher';
import { parseUtf8Matcher, parseUtf8Matchers } from '../matchers/utf8-parse';
import { buildRouteTree, groupLabels, matchRoutes, routeId, walkRoutes, type Route } from '../routing/route';
import { silencedBy, validateMatcher, validateSilence, type RawMatcher, type Silence } from '../silence/silence';

/**
 * Answers one case of the alertmanager-routing acceptance suite (the adapter protocol of its
 * check-routing.mjs): `{file, case}` in, an object shaped like the case's `expected` out. Used by
 * the jest spec over the fixtures and by `arcwatch notify cases-adapter`.
 */
export interface CaseInput {
  file: Record<string, unknown>;
  case: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const seconds = (ms: number): number => Math.round(ms / 1000);

function offsetMs(text: string): number {
  const m = /^([+-]?)(.*)$/.exec(text);
  const ms = parseDuration(m?.[2] ?? '');
  if (ms === undefined) throw new Error(`bad offset ${text}`);
  return m?.[1] === '-' ? -ms : ms;
}

function modeOf(file: Json, fallback: MatcherMode): MatcherMode {
  const raw = String(file.matcher_mode ?? file.label_name_mode ?? '');
  if (raw.startsWith('classic')) return 'classic';
  if (raw.startsWith('utf8')) return 'utf8';
  if (raw.startsWith('fallback') || raw.startsWith('default')) return 'fallback';
  return fallback;
}

function load(file: Json, mode: MatcherMode): AlertmanagerConfig {
  return parseAlertmanagerConfig(String(file.config ?? ''), `${String(file.id ?? 'case')}.yml`, { mode });
}

function routeOptions(r: Route, withLabels: boolean): Json {
  const o: Json = {
    receiver: r.opts.receiver,
    group_by: r.opts.groupByAll ? [] : [...r.opts.groupBy].sort(),
    group_by_all: r.opts.groupByAll,
    group_wait: seconds(r.opts.groupWaitMs),
    group_interval: seconds(r.opts.groupIntervalMs),
    repeat_interval: seconds(r.opts.repeatIntervalMs),
    continue: r.continue,
  };
  if (withLabels) o.route_labels = r.opts.labels;
  return o;
}

function routing(file: Json, c: Json): Json {
  const cfg = load(file, 'fallback');
  const root = buildRouteTree(cfg.route);
  const labels = c.alert_labels as LabelSet;
  const routes = matchRoutes(root, labels);
  return {
    receivers: routes.map((r) => r.opts.receiver),
    routes: routes.map((r) => routeOptions(r, file.requires !== undefined)),
    groups: routes.map((r) => ({ receiver: r.opts.receiver, group_labels: groupLabels(r, labels) })),
  };
}

function routeTree(file: Json): Json {
  const cfg = load(file, 'fallback');
  const root = buildRouteTree(cfg.route);
  const walk: string[] = [];
  const ids: string[] = [];
  const byPath: Record<string, boolean> = {};
  walkRoutes(root, (r) => {
    walk.push(r.opts.receiver);
    ids.push(routeId(r));
    byPath[r.path] = r.opts.groupByAll;
  });
  return { walk_receivers: walk, route_ids_any_order: ids, group_by_all_by_path: byPath };
}

function inhibition(file: Json, c: Json): Json {
  const cfg = load(file, 'fallback');
  const latest = new Map<string, { labels: LabelSet; resolved: boolean }>();
  const key = (l: LabelSet): string => JSON.stringify(Object.entries(l).sort());
  for (const a of (file.alerts as { labels: LabelSet; state: string }[]) ?? []) {
    latest.set(key(a.labels), { labels: a.labels, resolved: a.state === 'resolved' });
  }
  const candidate = c.candidate as LabelSet;
  if (latest.get(key(candidate))?.resolved) return { muted: false };
  return { muted: inhibitedBy(cfg.inhibitRules, candidate, latest.values()).muted };
}

function toRawMatcher(m: Json): RawMatcher {
  const value =
    typeof m.value_bytes_hex === 'string'
      ? Uint8Array.from(Buffer.from(m.value_bytes_hex, 'hex'))
      : String(m.value ?? '');
  const type = m.type_code !== undefined ? `code:${String(m.type_code)}` : String(m.type);
  return { name: String(m.name), type, value };
}

function silences(file: Json, c: Json): Json {
  const mode = modeOf(file, 'fallback');
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  if (c.matcher !== undefined) {
    const err = validateMatcher(toRawMatcher(c.matcher as Json), mode);
    return err ? { valid: false, error: err } : { valid: true };
  }
  if (c.silence !== undefined) {
    const s = c.silence as Json;
    const at = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(t0 + offsetMs(String(v))));
    const sets = s.matcher_sets !== undefined ? (s.matcher_sets as Json[][]) : [(s.matchers as Json[]) ?? []];
    const err = validateSilence(
      { matcherSets: sets.map((set) => set.map(toRawMatcher)), startsAt: at(s.starts_at), endsAt: at(s.ends_at) },
      mode,
    );
    return err ? { valid: false, error: err } : { valid: true };
  }
  const list: Silence[] = ((file.silences as Json[]) ?? [])
    .filter((s) => s.expire !== true)
    .map((s, i) => {
      const sets = s.matcher_sets !== undefined ? (s.matcher_sets as Matcher[][]) : [(s.matchers as Matcher[]) ?? []];
      return {
        id: `s${i}`,
        matcherSets: sets,
        startsAt: new Date(t0 + offsetMs(String(s.starts_at))),
        endsAt: new Date(t0 + offsetMs(String(s.ends_at))),
        createdBy: 'case',
        comment: '',
        updatedAt: new Date(t0),
      };
    });
  const now = new Date(t0 + offsetMs(String(c.at ?? '+0s')));
  return { silenced: silencedBy(list, c.alert_labels as LabelSet, now).length > 0 };
}

function matchersParse(file: Json, c: Json): Json {
  const input = String(c.input);
  try {
    const single = file.mode === 'matcher';
    const ms =
      file.parser === 'classic'
        ? single
          ? [parseClassicMatcher(input)]
          : parseClassicMatchers(input)
        : single
          ? [parseUtf8Matcher(input)]
          : parseUtf8Matchers(input);
    return { matchers: ms.map((m) => ({ name: m.name, type: m.type, value: m.value })) };
  } catch (e) {
    if (e instanceof MatcherError) return { error: e.message };
    throw e;
  }
}

function configValidation(file: Json): Json {
  try {
    load(file, modeOf(file, 'classic'));
    return { valid: true };
  } catch (e) {
    if (e instanceof AlertmanagerConfigError) return { valid: false, error: e.amMessage };
    throw e;
  }
}

export function answerCase(input: CaseInput): Json {
  const { file, case: c } = input;
  switch (file.kind) {
    case 'routing':
    case 'routing-generated':
      return routing(file, c);
    case 'route-tree':
      return routeTree(file);
    case 'inhibition':
    case 'inhibition-generated':
      return inhibition(file, c);
    case 'silences':
      return silences(file, c);
    case 'matchers-parse':
      return matchersParse(file, c);
    case 'config-validation':
      return configValidation(file);
    default:
      throw new Error(`unknown case kind ${String(file.kind)}`);
  }
}
