import type { RouteConfig } from '../config/alertmanager-config';
import {
  goQuote,
  matchersToString,
  matchesLabels,
  sortMatchers,
  type LabelSet,
  type Matcher,
} from '../matchers/matcher';

/**
 * The routing tree as Alertmanager's dispatcher builds it from the config: options inherited from
 * the parent, `match` / `match_re` / `matchers` folded into one sorted matcher list, depth-first
 * matching with `continue`, and the route key / ID strings that name aggregation groups.
 */
export interface RouteOpts {
  receiver: string;
  /** Sorted label names; ignored when groupByAll. */
  groupBy: string[];
  groupByAll: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  labels: Record<string, string>;
}

export interface Route {
  readonly parent: Route | undefined;
  readonly opts: RouteOpts;
  readonly matchers: Matcher[];
  readonly continue: boolean;
  readonly routes: Route[];
  /** Post-order index, as upstream numbers routes. */
  readonly idx: number;
  /** The config path (`route.routes[0]…`). */
  readonly path: string;
}

export const DEFAULT_ROUTE_OPTS: RouteOpts = {
  receiver: '',
  groupBy: [],
  groupByAll: false,
  groupWaitMs: 30_000,
  groupIntervalMs: 300_000,
  repeatIntervalMs: 4 * 3_600_000,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
  labels: {},
};

export function buildRouteTree(root: RouteConfig): Route {
  let counter = 0;
  const build = (cr: RouteConfig, parent: Route | undefined, path: string): Route => {
    const base = parent ? parent.opts : DEFAULT_ROUTE_OPTS;
    const opts: RouteOpts = { ...base };
    if (cr.labels && Object.keys(cr.labels).length > 0) opts.labels = { ...base.labels, ...cr.labels };
    if (cr.receiver !== '') opts.receiver = cr.receiver;
    if (cr.groupBy !== undefined) {
      opts.groupBy = [...new Set(cr.groupBy)].sort();
      opts.groupByAll = false;
    } else if (cr.groupByAll) {
      opts.groupByAll = true;
    }
    if (cr.groupWait !== undefined) opts.groupWaitMs = cr.groupWait;
    if (cr.groupInterval !== undefined) opts.groupIntervalMs = cr.groupInterval;
    if (cr.repeatInterval !== undefined) opts.repeatIntervalMs = cr.repeatInterval;
    opts.muteTimeIntervals = cr.muteTimeIntervals;
    opts.activeTimeIntervals = cr.activeTimeIntervals;
    const matchers = sortMatchers([
      ...Object.entries(cr.match).map(([name, value]): Matcher => ({ name, type: '=', value })),
      // Upstream stores the compiled regexp's String(), which is the anchored form.
      ...Object.entries(cr.matchRe).map(([name, value]): Matcher => ({ name, type: '=~', value: `^(?:${value})$` })),
      ...cr.matchers,
    ]);
    const route: { -readonly [K in keyof Route]: Route[K] } = {
      parent,
      opts,
      matchers,
      continue: cr.continue,
      routes: [],
      idx: 0,
      path,
    };
    route.routes = cr.routes.map((child, i) => build(child, route, `${path}.routes[${i}]`));
    route.idx = counter++;
    return route;
  };
  return build(root, undefined, 'route');
}

/** The routes an alert with these labels ends up in, in tree order (Alertmanager's Route.Match). */
export function matchRoutes(r: Route, labels: LabelSet): Route[] {
  if (!matchesLabels(r.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of r.routes) {
    const m = matchRoutes(child, labels);
    all.push(...m);
    if (m.length > 0 && !child.continue) break;
  }
  if (all.length === 0) all.push(r);
  return all;
}

export function routeKey(r: Route): string {
  return `${r.parent ? `${routeKey(r.parent)}/` : ''}${matchersToString(r.matchers)}`;
}

export function routeId(r: Route): string {
  let s = `${r.parent ? `${routeId(r.parent)}/` : ''}${matchersToString(r.matchers)}`;
  if (r.parent) s += `/${r.parent.routes.indexOf(r)}`;
  return s;
}

export function walkRoutes(r: Route, visit: (r: Route) => void): void {
  visit(r);
  for (const c of r.routes) walkRoutes(c, visit);
}

/** The labels that name an alert's aggregation group on this route (all labels for `...`). */
export function groupLabels(r: Route, labels: LabelSet): Record<string, string> {
  if (r.opts.groupByAll) return { ...labels };
  const out: Record<string, string> = {};
  for (const name of r.opts.groupBy) if (Object.hasOwn(labels, name)) out[name] = labels[name];
  return out;
}

/** Alertmanager's aggregation-group key: `<route key>:<group labels as a label set>`. */
export function groupKey(r: Route, labels: LabelSet): string {
  const gl = groupLabels(r, labels);
  const inner = Object.keys(gl)
    .sort()
    .map((k) => `${k}=${goQuote(gl[k])}`)
    .join(', ');
  return `${routeKey(r)}:{${inner}}`;
}
