import { ConfigFileError, readConfigText, YamlSource, type ConfigIssue } from '@arcwatch/config-files';
import { GoRegexpError, compileAnchored } from '../matchers/go-regexp';
import {
  isValidClassicLabelName,
  isValidLabelName,
  MatcherError,
  sortMatchers,
  type Matcher,
  type MatcherMode,
} from '../matchers/matcher';
import { parseMatchers } from '../matchers/parse';
import {
  parseDayOfMonthRange,
  parseMonthRange,
  parseTimeRange,
  parseWeekdayRange,
  parseYearRange,
  TimeIntervalError,
  validateLocation,
  type TimeInterval,
} from '../time-interval/time-interval';
import { decodeArcwatchBlock, type ArcwatchConfig } from './arcwatch-config';
import { decodeIntegration, INTEGRATION_BY_KEY, INTEGRATIONS, type IntegrationConfig } from './receivers';
import { AmLoadError, checkUrl, Decoder, type Path, type YNode } from './yaml-decoder';

export interface RouteConfig {
  receiver: string;
  /** undefined: not set (inherit); [] set empty (group by nothing). Excludes `...`. */
  groupBy: string[] | undefined;
  groupByAll: boolean;
  match: Record<string, string>;
  matchRe: Record<string, string>;
  matchers: Matcher[];
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  continue: boolean;
  routes: RouteConfig[];
  groupWait?: number;
  groupInterval?: number;
  repeatInterval?: number;
  labels?: Record<string, string>;
  path: Path;
}

export interface InhibitRuleConfig {
  name: string;
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

export interface Integration {
  kind: string;
  index: number;
  config: IntegrationConfig;
}

export interface ReceiverConfig {
  name: string;
  labels: Record<string, string>;
  integrations: Integration[];
}

export interface AlertmanagerConfig {
  global: Record<string, unknown>;
  route: RouteConfig;
  inhibitRules: InhibitRuleConfig[];
  receivers: ReceiverConfig[];
  templates: string[];
  timeIntervals: Map<string, TimeInterval[]>;
  /** ArcWatch's own additions (escalation, severities); undefined when the file has none. */
  arcwatch?: ArcwatchConfig;
  /** The raw `global:` block was present. */
  hasGlobal: boolean;
}

export interface LoadOptions {
  /** Matcher parser and label-name rule; Alertmanager ≥ 0.27 defaults to `fallback`. */
  mode?: MatcherMode;
}

const GLOBAL_FIELDS: Record<string, 'str' | 'url' | 'bool' | 'duration' | 'opaque' | 'hostport'> = {
  resolve_timeout: 'duration',
  http_config: 'opaque',
  jira_api_url: 'url',
  smtp_from: 'str',
  smtp_hello: 'str',
  smtp_smarthost: 'hostport',
  smtp_auth_username: 'str',
  smtp_auth_password: 'str',
  smtp_auth_password_file: 'str',
  smtp_auth_secret: 'str',
  smtp_auth_secret_file: 'str',
  smtp_auth_identity: 'str',
  smtp_require_tls: 'bool',
  smtp_tls_config: 'opaque',
  smtp_force_implicit_tls: 'bool',
  slack_api_url: 'url',
  slack_api_url_file: 'str',
  slack_app_token: 'str',
  slack_app_token_file: 'str',
  slack_app_url: 'url',
  pagerduty_url: 'url',
  opsgenie_api_url: 'url',
  opsgenie_api_key: 'str',
  opsgenie_api_key_file: 'str',
  wechat_api_url: 'url',
  wechat_api_secret: 'str',
  wechat_api_secret_file: 'str',
  wechat_api_corp_id: 'str',
  victorops_api_url: 'url',
  victorops_api_key: 'str',
  victorops_api_key_file: 'str',
  telegram_api_url: 'url',
  telegram_bot_token: 'str',
  telegram_bot_token_file: 'str',
  webex_api_url: 'url',
  rocketchat_api_url: 'url',
  rocketchat_token: 'str',
  rocketchat_token_file: 'str',
  rocketchat_token_id: 'str',
  rocketchat_token_id_file: 'str',
  mattermost_webhook_url: 'url',
  mattermost_webhook_url_file: 'str',
};

const GLOBAL_DEFAULTS: Record<string, unknown> = {
  resolve_timeout: 300_000,
  smtp_hello: 'localhost',
  smtp_require_tls: true,
  pagerduty_url: 'https://events.pagerduty.com/v2/enqueue',
  opsgenie_api_url: 'https://api.opsgenie.com/',
  wechat_api_url: 'https://qyapi.weixin.qq.com/cgi-bin/',
  victorops_api_url: 'https://alert.victorops.com/integrations/generic/20131114/alert/',
  telegram_api_url: 'https://api.telegram.org',
  webex_api_url: 'https://webexapis.com/v1/messages',
  rocketchat_api_url: 'https://open.rocket.chat/',
  slack_app_url: 'https://slack.com/api/chat.postMessage',
};

function hostPort(d: Decoder, node: YNode, path: Path): string {
  const text = d.str(node, path);
  if (text === '') return '';
  const m = /^(?:\[([^\]]*)\]|([^:]*)):([^:]*)$/.exec(text);
  if (!m) d.fatal(path, `address ${text}: missing port in address`);
  if (m[3] === '') d.fatal(path, `address ${JSON.stringify(text)}: port cannot be empty`);
  return text;
}

class ConfigDecoder {
  constructor(
    readonly d: Decoder,
    readonly mode: MatcherMode,
  ) {}

  matcherLines(node: YNode, path: Path): Matcher[] {
    const lines = this.d.strList(node, path) ?? [];
    const out: Matcher[] = [];
    lines.forEach((line, i) => {
      try {
        out.push(...parseMatchers(line, this.mode));
      } catch (e) {
        if (e instanceof MatcherError || e instanceof GoRegexpError) this.d.fatal([...path, i], e.message);
        throw e;
      }
    });
    return sortMatchers(out);
  }

  /** match_re: each value compiled as Go does at decode time, then the label-name checks. */
  matchRegexps(node: YNode, path: Path): Record<string, string> {
    const n = this.d.resolve(node);
    const raw: Record<string, string | null> = {};
    if (!this.d.isNull(n)) {
      const m = this.d.strMap(n, path) ?? {};
      const json = (this.d.opaque(n) ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(m)) {
        if (json[k] === null) {
          raw[k] = null;
          continue;
        }
        try {
          compileAnchored(v);
        } catch (e) {
          this.d.fatal([...path, k], (e as Error).message);
        }
        raw[k] = v;
      }
    }
    for (const [k, v] of Object.entries(raw)) {
      if (!isValidClassicLabelName(k)) this.d.fatal(path, `invalid label name ${JSON.stringify(k)}`);
      if (v === null) this.d.fatal([...path, k], `invalid regexp value for ${JSON.stringify(k)}`);
    }
    return raw as Record<string, string>;
  }

  route(node: YNode, path: Path): RouteConfig {
    const d = this.d;
    const r: RouteConfig = {
      receiver: '',
      groupBy: undefined,
      groupByAll: false,
      match: {},
      matchRe: {},
      matchers: [],
      muteTimeIntervals: [],
      activeTimeIntervals: [],
      continue: false,
      routes: [],
      path,
    };
    let groupByStr: string[] | undefined;
    const ok = d.struct(node, path, 'config.plain', {
      receiver: (n, p) => (r.receiver = d.str(n, p)),
      group_by: (n, p) => (groupByStr = d.strList(n, p)),
      match: (n, p) => (r.match = d.strMap(n, p) ?? {}),
      match_re: (n, p) => (r.matchRe = this.matchRegexps(n, p)),
      matchers: (n, p) => (r.matchers = this.matcherLines(n, p)),
      mute_time_intervals: (n, p) => (r.muteTimeIntervals = d.strList(n, p) ?? []),
      active_time_intervals: (n, p) => (r.activeTimeIntervals = d.strList(n, p) ?? []),
      continue: (n, p) => (r.continue = d.bool(n, p)),
      routes: (n, p) => (r.routes = d.seq(n, p, '[]*config.Route').map((child, i) => this.route(child, [...p, i]))),
      group_wait: (n, p) => (r.groupWait = d.duration(n, p)),
      group_interval: (n, p) => (r.groupInterval = d.duration(n, p)),
      repeat_interval: (n, p) => (r.repeatInterval = d.duration(n, p)),
      labels: (n, p) => (r.labels = d.strMap(n, p)),
    });
    if (!ok) return r;
    for (const k of Object.keys(r.match)) {
      if (!isValidClassicLabelName(k)) d.fatal([...path, 'match'], `invalid label name ${JSON.stringify(k)}`);
    }
    for (const k of Object.keys(r.labels ?? {})) {
      if (!isValidLabelName(k, this.mode))
        d.fatal([...path, 'labels'], `invalid label name ${JSON.stringify(k)} in route labels`);
    }
    if (groupByStr !== undefined) {
      const labels: string[] = [];
      for (const l of groupByStr) {
        if (l === '...') r.groupByAll = true;
        else if (!isValidLabelName(l, this.mode))
          d.fatal([...path, 'group_by'], `invalid label name ${JSON.stringify(l)} in group_by list`);
        else labels.push(l);
      }
      // Go keeps a nil slice for `group_by: ['...']` (inherit the labels, set group-by-all) and an
      // empty one for `group_by: []` (override the parent with nothing).
      r.groupBy = labels.length > 0 || groupByStr.length === 0 ? labels : undefined;
      if (labels.length > 0 && r.groupByAll) {
        d.fatal([...path, 'group_by'], 'cannot have wildcard group_by (`...`) and other labels at the same time');
      }
      const seen = new Set<string>();
      for (const l of labels) {
        if (seen.has(l)) d.fatal([...path, 'group_by'], `duplicated label ${JSON.stringify(l)} in group_by`);
        seen.add(l);
      }
    }
    if (r.groupInterval === 0) d.fatal([...path, 'group_interval'], 'group_interval cannot be zero');
    if (r.repeatInterval === 0) d.fatal([...path, 'repeat_interval'], 'repeat_interval cannot be zero');
    return r;
  }

  inhibitRule(node: YNode, path: Path): InhibitRuleConfig {
    const d = this.d;
    let sourceMatch: Record<string, string> = {};
    let targetMatch: Record<string, string> = {};
    let sourceRe: Record<string, string> = {};
    let targetRe: Record<string, string> = {};
    let sourceMatchers: Matcher[] = [];
    let targetMatchers: Matcher[] = [];
    let equal: string[] = [];
    let name = '';
    const ok = d.struct(node, path, 'common.plain', {
      name: (n, p) => (name = d.str(n, p)),
      source_match: (n, p) => (sourceMatch = d.strMap(n, p) ?? {}),
      source_match_re: (n, p) => (sourceRe = this.matchRegexps(n, p)),
      source_matchers: (n, p) => (sourceMatchers = this.matcherLines(n, p)),
      target_match: (n, p) => (targetMatch = d.strMap(n, p) ?? {}),
      target_match_re: (n, p) => (targetRe = this.matchRegexps(n, p)),
      target_matchers: (n, p) => (targetMatchers = this.matcherLines(n, p)),
      equal: (n, p) => (equal = d.strList(n, p) ?? []),
    });
    if (ok) {
      for (const k of [...Object.keys(sourceMatch), ...Object.keys(targetMatch)]) {
        if (!isValidClassicLabelName(k)) d.fatal(path, `invalid label name ${JSON.stringify(k)}`);
      }
      for (const l of equal) {
        if (!isValidLabelName(l, this.mode))
          d.fatal([...path, 'equal'], `invalid label name ${JSON.stringify(l)} in equal list`);
      }
    }
    const build = (eq: Record<string, string>, re: Record<string, string>, ms: Matcher[]): Matcher[] => [
      ...Object.entries(eq).map(([n, v]): Matcher => ({ name: n, type: '=', value: v })),
      ...Object.entries(re).map(([n, v]): Matcher => ({ name: n, type: '=~', value: v })),
      ...ms,
    ];
    return {
      name,
      sourceMatchers: build(sourceMatch, sourceRe, sourceMatchers),
      targetMatchers: build(targetMatch, targetRe, targetMatchers),
      equal,
    };
  }

  receiver(node: YNode, path: Path): ReceiverConfig {
    const d = this.d;
    const r: ReceiverConfig = { name: '', labels: {}, integrations: [] };
    const fields: Record<string, (n: YNode, p: Path) => void> = {
      name: (n, p) => (r.name = d.str(n, p)),
      labels: (n, p) => (r.labels = d.strMap(n, p) ?? {}),
    };
    for (const spec of INTEGRATIONS) {
      fields[spec.key] = (n, p) => {
        d.seq(n, p, `[]*${spec.kind}`).forEach((item, i) => {
          const cfg = decodeIntegration(d, spec, item, [...p, i]);
          r.integrations.push({ kind: spec.kind, index: i, config: cfg ?? { __nil: true, ...(spec.defaults ?? {}) } });
        });
      };
    }
    if (!d.struct(node, path, 'config.plain', fields)) return r;
    if (r.name === '') d.fatal(path, 'missing name in receiver');
    if (r.labels.name !== undefined && r.labels.name !== r.name) {
      d.fatal(
        [...path, 'labels'],
        `receiver label "name" must match receiver name ${JSON.stringify(r.name)}, got ${JSON.stringify(r.labels.name)}`,
      );
    }
    r.labels = { ...r.labels, name: r.name };
    return r;
  }

  timeIntervalList(
    node: YNode,
    path: Path,
    kind: 'mute time interval' | 'time interval',
  ): { name: string; intervals: TimeInterval[] }[] {
    const d = this.d;
    return d.seq(node, path, '[]config.TimeInterval').map((item, i) => {
      const p = [...path, i];
      let name = '';
      let intervals: TimeInterval[] = [];
      const ok = d.struct(item, p, 'config.plain', {
        name: (n, q) => (name = d.str(n, q)),
        time_intervals: (n, q) =>
          (intervals = d.seq(n, q, '[]timeinterval.TimeInterval').map((ti, j) => this.timeInterval(ti, [...q, j]))),
      });
      if (ok && name === '') d.fatal(p, `missing name in ${kind}`);
      return { name, intervals };
    });
  }

  timeInterval(node: YNode, path: Path): TimeInterval {
    const d = this.d;
    const ti: TimeInterval = {};
    const each = <T>(n: YNode, p: Path, f: (s: string) => T): T[] =>
      (d.strList(n, p) ?? []).map((s, i) => {
        try {
          return f(s);
        } catch (e) {
          if (e instanceof TimeIntervalError) d.fatal([...p, i], e.message);
          throw e;
        }
      });
    d.struct(node, path, 'timeinterval.TimeInterval', {
      times: (n, p) =>
        (ti.times = d.seq(n, p, '[]timeinterval.TimeRange').map((tr, i) => {
          let start = '';
          let end = '';
          d.struct(tr, [...p, i], 'timeinterval.plain', {
            start_time: (x, q) => (start = d.str(x, q)),
            end_time: (x, q) => (end = d.str(x, q)),
          });
          try {
            return parseTimeRange(start, end);
          } catch (e) {
            return d.fatal([...p, i], (e as Error).message);
          }
        })),
      weekdays: (n, p) => (ti.weekdays = each(n, p, parseWeekdayRange)),
      days_of_month: (n, p) => (ti.daysOfMonth = each(n, p, parseDayOfMonthRange)),
      months: (n, p) => (ti.months = each(n, p, parseMonthRange)),
      years: (n, p) => (ti.years = each(n, p, parseYearRange)),
      location: (n, p) => {
        const loc = d.str(n, p);
        try {
          validateLocation(loc);
        } catch (e) {
          d.fatal(p, (e as Error).message);
        }
        ti.location = loc === '' || loc === 'UTC' ? undefined : loc;
      },
    });
    return ti;
  }

  global(node: YNode, path: Path): Record<string, unknown> {
    const d = this.d;
    const g: Record<string, unknown> = { ...GLOBAL_DEFAULTS };
    const fields: Record<string, (n: YNode, p: Path) => void> = {};
    for (const [name, kind] of Object.entries(GLOBAL_FIELDS)) {
      fields[name] = (n, p) => {
        if (kind === 'str') g[name] = d.str(n, p);
        else if (kind === 'bool') g[name] = d.bool(n, p);
        else if (kind === 'duration') g[name] = d.duration(n, p);
        else if (kind === 'hostport') g[name] = hostPort(d, n, p);
        else if (kind === 'url') {
          const text = d.str(n, p);
          const problem = text === '' ? undefined : checkUrl(text);
          if (problem) d.fatal(p, problem);
          g[name] = text === '' ? undefined : text;
        } else g[name] = d.opaque(n);
      };
    }
    d.struct(node, path, 'config.plain', fields);
    return g;
  }
}

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** Config-level checks after decoding, in Alertmanager's order; each returns the first problem. */
function checkGlobalAndReceivers(cfg: Omit<AlertmanagerConfig, 'route'>, g: Record<string, unknown>, d: Decoder): void {
  const pairs: [string, string][] = [
    ['slack_app_token', 'slack_app_token_file'],
    ['slack_api_url', 'slack_api_url_file'],
  ];
  for (const [a, b] of pairs)
    if (present(g[a]) && present(g[b])) d.fatal(['global'], `at most one of ${a} & ${b} must be configured`);
  if (
    (present(g.slack_app_token) || present(g.slack_app_token_file)) &&
    (present(g.slack_api_url) || present(g.slack_api_url_file))
  ) {
    if (g.slack_api_url !== g.slack_app_url) {
      d.fatal(
        ['global'],
        'at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured',
      );
    }
  }
  const more: [string, string][] = [
    ['opsgenie_api_key', 'opsgenie_api_key_file'],
    ['victorops_api_key', 'victorops_api_key_file'],
    ['telegram_bot_token', 'telegram_bot_token_file'],
    ['smtp_auth_password', 'smtp_auth_password_file'],
    ['rocketchat_token', 'rocketchat_token_file'],
    ['rocketchat_token_id', 'rocketchat_token_id_file'],
    ['smtp_auth_secret', 'smtp_auth_secret_file'],
    ['wechat_api_secret', 'wechat_api_secret_file'],
    ['mattermost_webhook_url', 'mattermost_webhook_url_file'],
  ];
  for (const [a, b] of more)
    if (present(g[a]) && present(g[b])) d.fatal(['global'], `at most one of ${a} & ${b} must be configured`);

  const names = new Set<string>();
  cfg.receivers.forEach((rcv, ri) => {
    const at: Path = ['receivers', ri];
    if (names.has(rcv.name))
      d.fatal([...at, 'name'], `notification config name ${JSON.stringify(rcv.name)} is not unique`);
    for (const integ of rcv.integrations) {
      const c = integ.config;
      const p: Path = [...at, `${integ.kind}_configs`, integ.index];
      const isNil = c.__nil === true;
      const spec = INTEGRATION_BY_KEY.get(`${integ.kind}_configs`);
      if (isNil && spec && !spec.nilIsDefault) d.fatal(p, `missing ${integ.kind} config`);
      const fail = (m: string): never => d.fatal(p, m);
      switch (integ.kind) {
        case 'email':
          c.smarthost = c.smarthost || g.smtp_smarthost;
          if (!present(c.smarthost)) fail('no global SMTP smarthost set');
          c.from = c.from || g.smtp_from;
          if (!present(c.from)) fail('no global SMTP from set');
          c.hello = c.hello || g.smtp_hello;
          c.auth_username = c.auth_username || g.smtp_auth_username;
          if (!present(c.auth_password) && !present(c.auth_password_file)) {
            c.auth_password = g.smtp_auth_password;
            c.auth_password_file = g.smtp_auth_password_file;
          }
          c.auth_identity = c.auth_identity || g.smtp_auth_identity;
          if (c.require_tls === undefined) c.require_tls = g.smtp_require_tls;
          break;
        case 'slack': {
          const hasAuth = Boolean((c.http_config as { authorization?: unknown } | null | undefined)?.authorization);
          c.app_url = c.app_url ?? g.slack_app_url;
          if (!present(c.app_token) && !present(c.app_token_file) && !hasAuth && !present(c.api_url)) {
            c.app_token = g.slack_app_token;
            c.app_token_file = g.slack_app_token_file;
          }
          if (!present(c.api_url) && !present(c.api_url_file)) {
            c.api_url = g.slack_api_url;
            c.api_url_file = g.slack_api_url_file;
          }
          if (!present(c.api_url) && !present(c.api_url_file) && !present(c.app_token) && !present(c.app_token_file)) {
            fail('no Slack API URL nor App token set either inline or in a file');
          }
          if ((present(c.app_token) || present(c.app_token_file)) && hasAuth)
            fail("http authorization can't be set when using Slack App tokens");
          if (present(c.app_token) || present(c.app_token_file)) c.api_url = c.app_url;
          break;
        }
        case 'pagerduty':
          c.url = c.url ?? g.pagerduty_url;
          break;
        case 'opsgenie':
          c.api_url = c.api_url ?? g.opsgenie_api_url;
          c.api_key = c.api_key || g.opsgenie_api_key;
          c.api_key_file = c.api_key_file || g.opsgenie_api_key_file;
          if (!present(c.api_key) && !present(c.api_key_file))
            fail('no global OpsGenie API Key set either inline or in a file');
          break;
        case 'wechat':
          c.api_url = c.api_url ?? g.wechat_api_url;
          if (!present(c.api_secret) && !present(c.api_secret_file)) {
            if (!present(g.wechat_api_secret) && !present(g.wechat_api_secret_file))
              fail('no global Wechat Api Secret set either inline or in a file');
            c.api_secret = g.wechat_api_secret;
            c.api_secret_file = g.wechat_api_secret_file;
          }
          c.corp_id = c.corp_id || g.wechat_api_corp_id;
          if (!present(c.corp_id)) fail('no global Wechat CorpID set');
          break;
        case 'victorops':
          c.api_url = c.api_url ?? g.victorops_api_url;
          c.api_key = c.api_key || g.victorops_api_key;
          c.api_key_file = c.api_key_file || g.victorops_api_key_file;
          if (!present(c.api_key) && !present(c.api_key_file)) fail('no global VictorOps API Key set');
          break;
        case 'telegram':
          c.api_url = c.api_url ?? g.telegram_api_url;
          if (!present(c.bot_token) && !present(c.bot_token_file)) {
            if (!present(g.telegram_bot_token) && !present(g.telegram_bot_token_file))
              fail('missing bot_token or bot_token_file on telegram_config');
            c.bot_token = g.telegram_bot_token;
            c.bot_token_file = g.telegram_bot_token_file;
          }
          break;
        case 'discord':
          if (!present(c.webhook_url) && !present(c.webhook_url_file))
            fail('no discord webhook URL or URLFile provided');
          break;
        case 'webex':
          c.api_url = c.api_url ?? g.webex_api_url;
          break;
        case 'msteams':
          if (!present(c.webhook_url) && !present(c.webhook_url_file))
            fail('no msteams webhook URL or URLFile provided');
          break;
        case 'msteamsv2':
          if (!present(c.webhook_url) && !present(c.webhook_url_file))
            fail('no msteamsv2 webhook URL or URLFile provided');
          break;
        case 'jira':
          c.api_url = c.api_url ?? g.jira_api_url;
          if (!present(c.api_url)) fail('no global Jira Cloud URL set');
          break;
        case 'rocketchat':
          c.api_url = c.api_url ?? g.rocketchat_api_url;
          c.token_id = c.token_id || g.rocketchat_token_id;
          c.token_id_file = c.token_id_file || g.rocketchat_token_id_file;
          if (!present(c.token_id) && !present(c.token_id_file))
            fail('no global Rocketchat TokenID set either inline or in a file');
          c.token = c.token || g.rocketchat_token;
          c.token_file = c.token_file || g.rocketchat_token_file;
          if (!present(c.token) && !present(c.token_file))
            fail('no global Rocketchat Token set either inline or in a file');
          break;
        case 'mattermost':
          if (!present(c.webhook_url) && !present(c.webhook_url_file)) {
            if (!present(g.mattermost_webhook_url) && !present(g.mattermost_webhook_url_file)) {
              fail('missing webhook_url or webhook_url_file on mattermost_config');
            }
            c.webhook_url = g.mattermost_webhook_url;
            c.webhook_url_file = g.mattermost_webhook_url_file;
          }
          break;
        default:
          break;
      }
      delete c.__nil;
    }
    names.add(rcv.name);
  });
}

function checkRouteTree(route: RouteConfig | undefined, receiverNames: Set<string>, d: Decoder): void {
  if (!route) d.fatal([], 'no routes provided');
  if (route.receiver === '') d.fatal(['route'], 'root route must specify a default receiver');
  if (Object.keys(route.match).length > 0 || Object.keys(route.matchRe).length > 0 || route.matchers.length > 0) {
    d.fatal(['route'], 'root route must not have any matchers');
  }
  if (route.muteTimeIntervals.length > 0) d.fatal(['route'], 'root route must not have any mute time intervals');
  if (route.activeTimeIntervals.length > 0) d.fatal(['route'], 'root route must not have any active time intervals');
  const checkReceiver = (r: RouteConfig): void => {
    r.routes.forEach(checkReceiver);
    if (r.receiver !== '' && !receiverNames.has(r.receiver))
      d.fatal([...r.path, 'receiver'], `undefined receiver ${JSON.stringify(r.receiver)} used in route`);
  };
  checkReceiver(route);
}

function checkTimeIntervals(route: RouteConfig, tiNames: Set<string>, d: Decoder): void {
  const walk = (r: RouteConfig): void => {
    r.routes.forEach(walk);
    for (const n of [...r.activeTimeIntervals, ...r.muteTimeIntervals]) {
      if (!tiNames.has(n)) d.fatal(r.path, `undefined time interval ${JSON.stringify(n)} used in route`);
    }
  };
  walk(route);
}

/** Raised for an invalid Alertmanager config: `message` is Alertmanager's own text. */
export class AlertmanagerConfigError extends ConfigFileError {
  constructor(
    readonly amMessage: string,
    issue: ConfigIssue,
  ) {
    super([issue]);
    this.name = 'AlertmanagerConfigError';
  }
}

/**
 * Loads an Alertmanager configuration (plus an optional top-level `arcwatch:` block) from YAML
 * text. Accepts and refuses what Alertmanager's own loader does; the error carries
 * Alertmanager's message and the file:line:column and field path of the offending node.
 */
export function parseAlertmanagerConfig(text: string, file: string, opts: LoadOptions = {}): AlertmanagerConfig {
  const mode = opts.mode ?? 'fallback';
  let source: YamlSource;
  try {
    source = YamlSource.parse(text, file, { merge: true });
  } catch (e) {
    if (e instanceof ConfigFileError) {
      const first = e.issues[0];
      throw new AlertmanagerConfigError(`yaml: line ${first.line}: ${first.message}`, first);
    }
    throw e;
  }
  const d = new Decoder(source);
  const c = new ConfigDecoder(d, mode);
  const fail = (err: AmLoadError): never => {
    const issue = source.issue(err.path, err.message);
    throw new AlertmanagerConfigError(err.message, issue);
  };
  try {
    const root = d.resolve(source.doc.contents as YNode);
    let global: Record<string, unknown> | undefined;
    let route: RouteConfig | undefined;
    let inhibitRules: InhibitRuleConfig[] = [];
    let receivers: ReceiverConfig[] = [];
    let templates: string[] = [];
    let mute: { name: string; intervals: TimeInterval[] }[] = [];
    let tis: { name: string; intervals: TimeInterval[] }[] = [];
    let arcwatch: ArcwatchConfig | undefined;
    const empty = d.isNull(root);
    const ok = d.struct(root, [], 'config.plain', {
      global: (n, p) => (global = c.global(n, p)),
      route: (n, p) => (route = d.isNull(n) ? undefined : c.route(n, p)),
      inhibit_rules: (n, p) =>
        (inhibitRules = d.seq(n, p, '[]config.InhibitRule').map((x, i) => c.inhibitRule(x, [...p, i]))),
      receivers: (n, p) => (receivers = d.seq(n, p, '[]config.Receiver').map((x, i) => c.receiver(x, [...p, i]))),
      templates: (n, p) => (templates = d.strList(n, p) ?? []),
      mute_time_intervals: (n, p) => (mute = c.timeIntervalList(n, p, 'mute time interval')),
      time_intervals: (n, p) => (tis = c.timeIntervalList(n, p, 'time interval')),
      tracing: () => undefined,
      event_recorder: () => undefined,
      arcwatch: (n, p) => (arcwatch = decodeArcwatchBlock(d, n, p)),
    });
    if (!ok) {
      const first = d.typeErrors[0];
      const message = `yaml: unmarshal errors:\n${d.typeErrors.map((t) => `  ${t.message}`).join('\n')}`;
      throw new AlertmanagerConfigError(message, source.issue(first.path, message, first.key));
    }
    const hasGlobal = global !== undefined;
    const g = global ?? { ...GLOBAL_DEFAULTS };
    const timeIntervals = new Map<string, TimeInterval[]>();
    const partial = { global: g, inhibitRules, receivers, templates, timeIntervals, hasGlobal: true };
    if (!empty) {
      checkGlobalAndReceivers(partial, g, d);
      checkRouteTree(route, new Set(receivers.map((r) => r.name)), d);
      const tiNames = new Set<string>();
      mute.forEach((m, i) => {
        if (tiNames.has(m.name))
          d.fatal(['mute_time_intervals', i], `mute time interval ${JSON.stringify(m.name)} is not unique`);
        tiNames.add(m.name);
        timeIntervals.set(m.name, m.intervals);
      });
      tis.forEach((m, i) => {
        if (tiNames.has(m.name))
          d.fatal(['time_intervals', i], `time interval ${JSON.stringify(m.name)} is not unique`);
        tiNames.add(m.name);
        timeIntervals.set(m.name, m.intervals);
      });
      checkTimeIntervals(route as unknown as RouteConfig, tiNames, d);
    }
    const rootRoute = route as RouteConfig | undefined;
    if (!rootRoute) return d.fatal([], 'no route provided in config');
    if (rootRoute.continue) d.fatal(['route', 'continue'], 'cannot have continue in root route');
    return { global: g, route: rootRoute, inhibitRules, receivers, templates, timeIntervals, arcwatch, hasGlobal };
  } catch (e) {
    if (e instanceof AmLoadError) return fail(e);
    throw e;
  }
}

/** Reads and loads a file; an unreadable file is an AlertmanagerConfigError naming it. */
export function loadAlertmanagerConfigFile(file: string, opts: LoadOptions = {}): AlertmanagerConfig {
  let text: string;
  try {
    text = readConfigText(file);
  } catch (e) {
    if (e instanceof ConfigFileError) throw new AlertmanagerConfigError(e.issues[0].message, e.issues[0]);
    throw e;
  }
  return parseAlertmanagerConfig(text, file, opts);
}
