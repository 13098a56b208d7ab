import { checkUrl, type Decoder, type Path, type YNode } from './yaml-decoder';

/**
 * Every receiver kind of current Alertmanager releases loads, with its fields and checks, so an
 * existing alertmanager.yml is accepted (or refused) unchanged. ArcWatch delivers webhook, Slack,
 * PagerDuty and e-mail itself; the other kinds load and are reported as not delivered.
 */
type FieldKind = 'str' | 'bool' | 'int' | 'url' | 'opaque' | 'strmap' | 'duration';

export type IntegrationConfig = Record<string, unknown>;

export interface IntegrationSpec {
  /** The key under a receiver, e.g. `webhook_configs`. */
  key: string;
  kind: string;
  /** The type name Go's strict decoder names in "field X not found in type T". */
  goType: string;
  /** A null list entry: Go fails for most kinds, but fills defaults for a few. */
  nilIsDefault: boolean;
  fields: Record<string, FieldKind>;
  defaults?: Record<string, unknown>;
  validate?: (c: IntegrationConfig) => string | undefined;
}

const s = (names: string): Record<string, FieldKind> =>
  Object.fromEntries(names.split(' ').map((n) => [n, 'str' as FieldKind]));
const o = (names: string): Record<string, FieldKind> =>
  Object.fromEntries(names.split(' ').map((n) => [n, 'opaque' as FieldKind]));
const common: Record<string, FieldKind> = { send_resolved: 'bool', http_config: 'opaque' };
const has = (c: IntegrationConfig, k: string): boolean => c[k] !== undefined && c[k] !== '' && c[k] !== null;
const both = (c: IntegrationConfig, a: string, b: string): boolean => has(c, a) && has(c, b);

export const INTEGRATIONS: IntegrationSpec[] = [
  {
    key: 'discord_configs',
    kind: 'discord',
    goType: 'discord.plain',
    nilIsDefault: false,
    fields: { ...common, webhook_url: 'url', ...s('webhook_url_file content title message username avatar_url') },
    validate: (c) =>
      !has(c, 'webhook_url') && !has(c, 'webhook_url_file')
        ? 'one of webhook_url or webhook_url_file must be configured'
        : both(c, 'webhook_url', 'webhook_url_file')
          ? 'at most one of webhook_url & webhook_url_file must be configured'
          : undefined,
  },
  {
    key: 'email_configs',
    kind: 'email',
    goType: 'config.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      ...s(
        'to from hello smarthost auth_username auth_password auth_password_file auth_secret auth_secret_file auth_identity html text',
      ),
      headers: 'strmap',
      require_tls: 'bool',
      tls_config: 'opaque',
      force_implicit_tls: 'bool',
      threading: 'opaque',
    },
    defaults: { send_resolved: false, html: '{{ template "email.default.html" . }}' },
    validate: (c) => {
      if (!has(c, 'to')) return 'missing to address in email config';
      const seen = new Set<string>();
      for (const h of Object.keys((c.headers as Record<string, string> | undefined) ?? {})) {
        const canon = h.toLowerCase().replace(/(^|-)([a-z])/g, (_m, p: string, ch: string) => p + ch.toUpperCase());
        if (seen.has(canon)) return `duplicate header ${JSON.stringify(canon)} in email config`;
        seen.add(canon);
      }
      const threading = c.threading as { enabled?: unknown; thread_by_date?: unknown } | null | undefined;
      if (threading?.enabled === true) {
        if (seen.has('References'))
          return 'conflicting configuration: threading.enabled conflicts with custom References header';
        if (seen.has('In-Reply-To'))
          return 'conflicting configuration: threading.enabled conflicts with custom In-Reply-To header';
        if (threading.thread_by_date !== 'none' && threading.thread_by_date !== 'daily') {
          return "threading.thread_by_date must be either 'none' or 'daily'";
        }
      }
      return undefined;
    },
  },
  {
    key: 'incidentio_configs',
    kind: 'incidentio',
    goType: 'incidentio.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      url: 'url',
      ...s('url_file alert_source_token alert_source_token_file'),
      max_alerts: 'int',
      timeout: 'duration',
    },
    validate: (c) => {
      if (!has(c, 'url') && !has(c, 'url_file')) return 'one of url or url_file must be configured';
      if (both(c, 'url', 'url_file')) return 'at most one of url & url_file must be configured';
      if (both(c, 'alert_source_token', 'alert_source_token_file')) {
        return 'at most one of alert_source_token & alert_source_token_file must be configured';
      }
      const auth = (c.http_config as { authorization?: unknown } | null | undefined)?.authorization;
      const token = has(c, 'alert_source_token') || has(c, 'alert_source_token_file');
      if (auth && token)
        return 'cannot specify alert_source_token or alert_source_token_file when using http_config.authorization';
      if (!auth && !token)
        return 'at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured';
      return undefined;
    },
  },
  {
    key: 'pagerduty_configs',
    kind: 'pagerduty',
    goType: 'pagerduty.plain',
    nilIsDefault: false,
    defaults: { send_resolved: true },
    fields: {
      ...common,
      ...s(
        'service_key service_key_file routing_key routing_key_file client client_url description severity class component group source',
      ),
      url: 'url',
      details: 'strmap',
      images: 'opaque',
      links: 'opaque',
      timeout: 'duration',
    },
    validate: (c) =>
      !has(c, 'routing_key') && !has(c, 'service_key') && !has(c, 'routing_key_file') && !has(c, 'service_key_file')
        ? 'missing service or routing key in PagerDuty config'
        : both(c, 'routing_key', 'routing_key_file')
          ? 'at most one of routing_key & routing_key_file must be configured'
          : both(c, 'service_key', 'service_key_file')
            ? 'at most one of service_key & service_key_file must be configured'
            : undefined,
  },
  {
    key: 'slack_configs',
    kind: 'slack',
    goType: 'config.plain',
    nilIsDefault: true,
    defaults: { send_resolved: false },
    fields: {
      ...common,
      api_url: 'url',
      app_url: 'url',
      ...s(
        'api_url_file app_token app_token_file channel username color title title_link pretext text message_text footer fallback',
      ),
      ...s('callback_id icon_emoji icon_url image_url thumb_url'),
      ...o('fields mrkdwn_in actions'),
      short_fields: 'bool',
      link_names: 'bool',
      update_message: 'bool',
      timeout: 'duration',
    },
    validate: (c) => {
      if (both(c, 'api_url', 'api_url_file')) return 'at most one of api_url & api_url_file must be configured';
      if (both(c, 'app_token', 'app_token_file')) return 'at most one of app_token & app_token_file must be configured';
      if ((has(c, 'api_url') || has(c, 'api_url_file')) && (has(c, 'app_token') || has(c, 'app_token_file'))) {
        return 'at most one of api_url/api_url_file & app_token/app_token_file must be configured';
      }
      if (c.update_message === true && c.api_url !== 'https://slack.com/api/chat.postMessage') {
        return 'update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage';
      }
      return undefined;
    },
  },
  {
    key: 'webhook_configs',
    kind: 'webhook',
    goType: 'webhook.plain',
    nilIsDefault: false,
    fields: { ...common, url: 'url', url_file: 'str', max_alerts: 'int', timeout: 'duration', payload: 'opaque' },
    defaults: { send_resolved: true },
    validate: (c) =>
      !has(c, 'url') && !has(c, 'url_file')
        ? 'one of url or url_file must be configured'
        : both(c, 'url', 'url_file')
          ? 'at most one of url & url_file must be configured'
          : undefined,
  },
  {
    key: 'opsgenie_configs',
    kind: 'opsgenie',
    goType: 'opsgenie.plain',
    nilIsDefault: true,
    fields: {
      ...common,
      api_url: 'url',
      ...s('api_key api_key_file message description source entity actions tags note priority'),
      details: 'strmap',
      responders: 'opaque',
      update_alerts: 'bool',
    },
    validate: (c) => {
      if (both(c, 'api_key', 'api_key_file')) return 'at most one of api_key & api_key_file must be configured';
      const responders = Array.isArray(c.responders) ? (c.responders as Record<string, unknown>[]) : [];
      for (const r of responders) {
        if (!r?.id && !r?.username && !r?.name) {
          return `opsGenieConfig responder {${String(r?.id ?? '')} ${String(r?.name ?? '')} ${String(r?.username ?? '')} ${String(r?.type ?? '')}} has to have at least one of id, username or name specified`;
        }
        const type = String(r.type ?? '');
        if (!type.includes('{{') && !/^(team|teams|user|escalation|schedule)$/.test(type.toLowerCase())) {
          return `opsGenieConfig responder {${String(r.id ?? '')} ${String(r.name ?? '')} ${String(r.username ?? '')} ${type}} type does not match valid options ^(team|teams|user|escalation|schedule)$`;
        }
      }
      return undefined;
    },
  },
  {
    key: 'wechat_configs',
    kind: 'wechat',
    goType: 'config.plain',
    nilIsDefault: true,
    fields: {
      ...common,
      api_url: 'url',
      ...s('api_secret api_secret_file corp_id message to_user to_party to_tag agent_id message_type'),
    },
    defaults: { message_type: 'text' },
    validate: (c) =>
      !/^(text|markdown)$/.test(String(c.message_type ?? ''))
        ? `weChat message type ${JSON.stringify(String(c.message_type ?? ''))} does not match valid options ^(text|markdown)$`
        : both(c, 'api_secret', 'api_secret_file')
          ? 'at most one of api_secret & api_secret_file must be configured'
          : undefined,
  },
  {
    key: 'pushover_configs',
    kind: 'pushover',
    goType: 'pushover.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      ...s('user_key user_key_file token token_file title message url url_title device sound priority'),
      ...o('retry expire ttl'),
      html: 'bool',
      monospace: 'bool',
    },
    validate: (c) => {
      if (!has(c, 'user_key') && !has(c, 'user_key_file')) return 'one of user_key or user_key_file must be configured';
      if (both(c, 'user_key', 'user_key_file')) return 'at most one of user_key & user_key_file must be configured';
      if (!has(c, 'token') && !has(c, 'token_file')) return 'one of token or token_file must be configured';
      if (both(c, 'token', 'token_file')) return 'at most one of token & token_file must be configured';
      if (c.html === true && c.monospace === true) return 'at most one of monospace & html must be configured';
      return undefined;
    },
  },
  {
    key: 'victorops_configs',
    kind: 'victorops',
    goType: 'config.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      api_url: 'url',
      ...s('api_key api_key_file routing_key message_type state_message entity_display_name monitoring_tool'),
      custom_fields: 'strmap',
    },
    validate: (c) => {
      if (!has(c, 'routing_key')) return 'missing Routing key in VictorOps config';
      if (both(c, 'api_key', 'api_key_file')) return 'at most one of api_key & api_key_file must be configured';
      const reserved = [
        'routing_key',
        'message_type',
        'state_message',
        'entity_display_name',
        'monitoring_tool',
        'entity_id',
        'entity_state',
      ];
      const custom = (c.custom_fields as Record<string, string> | undefined) ?? {};
      for (const f of reserved) {
        if (Object.hasOwn(custom, f)) {
          return `victorOps config contains custom field ${f} which cannot be used as it conflicts with the fixed/static fields`;
        }
      }
      return undefined;
    },
  },
  {
    key: 'sns_configs',
    kind: 'sns',
    goType: 'sns.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      ...s('api_url topic_arn phone_number target_arn subject message'),
      sigv4: 'opaque',
      attributes: 'strmap',
    },
    validate: (c) =>
      (!has(c, 'target_arn') !== !has(c, 'topic_arn')) !== !has(c, 'phone_number')
        ? 'must provide either a Target ARN, Topic ARN, or Phone Number for SNS config'
        : undefined,
  },
  {
    key: 'telegram_configs',
    kind: 'telegram',
    goType: 'telegram.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      api_url: 'url',
      ...s('bot_token bot_token_file chat_id_file message parse_mode'),
      chat_id: 'int',
      message_thread_id: 'int',
      disable_notifications: 'bool',
    },
    defaults: { parse_mode: 'HTML' },
    validate: (c) => {
      if (both(c, 'bot_token', 'bot_token_file')) return 'at most one of bot_token & bot_token_file must be configured';
      if (!c.chat_id && !has(c, 'chat_id_file')) return 'missing chat_id or chat_id_file on telegram_config';
      if (c.chat_id && has(c, 'chat_id_file')) return 'at most one of chat_id & chat_id_file must be configured';
      if (!['', 'Markdown', 'MarkdownV2', 'HTML'].includes(String(c.parse_mode ?? ''))) {
        return 'unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string';
      }
      return undefined;
    },
  },
  {
    key: 'webex_configs',
    kind: 'webex',
    goType: 'config.plain',
    nilIsDefault: false,
    fields: { ...common, api_url: 'url', ...s('message room_id') },
    validate: (c) => {
      if (!has(c, 'room_id')) return 'missing room_id on webex_config';
      if (!(c.http_config as { authorization?: unknown } | null | undefined)?.authorization) {
        return 'missing webex_configs.http_config.authorization';
      }
      return undefined;
    },
  },
  {
    key: 'msteams_configs',
    kind: 'msteams',
    goType: 'msteams.plain',
    nilIsDefault: false,
    fields: { ...common, webhook_url: 'url', ...s('webhook_url_file title summary text') },
    validate: (c) =>
      !has(c, 'webhook_url') && !has(c, 'webhook_url_file')
        ? 'one of webhook_url or webhook_url_file must be configured'
        : both(c, 'webhook_url', 'webhook_url_file')
          ? 'at most one of webhook_url & webhook_url_file must be configured'
          : undefined,
  },
  {
    key: 'msteamsv2_configs',
    kind: 'msteamsv2',
    goType: 'msteamsv2.plain',
    nilIsDefault: false,
    fields: { ...common, webhook_url: 'url', ...s('webhook_url_file title text') },
    validate: (c) =>
      !has(c, 'webhook_url') && !has(c, 'webhook_url_file')
        ? 'one of webhook_url or webhook_url_file must be configured'
        : both(c, 'webhook_url', 'webhook_url_file')
          ? 'at most one of webhook_url & webhook_url_file must be configured'
          : undefined,
  },
  {
    key: 'jira_configs',
    kind: 'jira',
    goType: 'jira.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      api_url: 'url',
      ...s('api_type project priority issue_type reopen_transition resolve_transition wont_fix_resolution'),
      ...o('labels fields summary description'),
      reopen_duration: 'duration',
    },
    defaults: { api_type: 'auto' },
    validate: (c) => {
      if (!has(c, 'project')) return 'missing project in jira_config';
      if (!has(c, 'issue_type')) return 'missing issue_type in jira_config';
      if (!['auto', 'cloud', 'datacenter'].includes(String(c.api_type ?? ''))) {
        return 'unknown api_type on jira_config, must be auto, cloud or datacenter';
      }
      return undefined;
    },
  },
  {
    key: 'rocketchat_configs',
    kind: 'rocketchat',
    goType: 'rocketchat.plain',
    nilIsDefault: true,
    fields: {
      ...common,
      api_url: 'url',
      ...s(
        'token_id token_id_file token token_file channel color title title_link text emoji icon_url image_url thumb_url',
      ),
      ...o('fields actions'),
      short_fields: 'bool',
      link_names: 'bool',
    },
    validate: (c) =>
      both(c, 'token', 'token_file')
        ? 'at most one of token & token_file must be configured'
        : both(c, 'token_id', 'token_id_file')
          ? 'at most one of token_id & token_id_file must be configured'
          : undefined,
  },
  {
    key: 'mattermost_configs',
    kind: 'mattermost',
    goType: 'mattermost.plain',
    nilIsDefault: false,
    fields: {
      ...common,
      webhook_url: 'url',
      ...s(
        'webhook_url_file channel username text fallback color pretext author_name author_link author_icon title title_link',
      ),
      ...s('thumb_url footer footer_icon image_url icon_url icon_emoji type'),
      ...o('fields attachments props priority'),
    },
    validate: (c) =>
      both(c, 'webhook_url', 'webhook_url_file')
        ? 'at most one of webhook_url & webhook_url_file must be configured'
        : undefined,
  },
];

export const INTEGRATION_BY_KEY = new Map(INTEGRATIONS.map((i) => [i.key, i]));

/** Decodes one integration entry; null for a null entry (the caller decides what that means). */
export function decodeIntegration(
  d: Decoder,
  spec: IntegrationSpec,
  node: YNode,
  path: Path,
): IntegrationConfig | null {
  if (d.isNull(node)) return null;
  const c: IntegrationConfig = { ...(spec.defaults ?? {}) };
  const fields: Record<string, (n: YNode, p: Path) => void> = {};
  for (const [name, kind] of Object.entries(spec.fields)) {
    fields[name] = (n, p) => {
      switch (kind) {
        case 'str':
          c[name] = d.str(n, p);
          break;
        case 'bool':
          c[name] = d.bool(n, p);
          break;
        case 'int':
          c[name] = d.int(n, p);
          break;
        case 'duration':
          c[name] = d.duration(n, p);
          break;
        case 'strmap':
          c[name] = d.strMap(n, p);
          break;
        case 'url': {
          const text = d.str(n, p);
          if (text !== '' && !text.includes('{{') && text !== '<secret>') {
            const problem = checkUrl(text);
            if (problem) d.fatal(p, problem);
          }
          c[name] = text === '' ? undefined : text;
          break;
        }
        default:
          c[name] = d.opaque(n);
      }
    };
  }
  if (!d.struct(node, path, spec.goType, fields)) return c;
  const problem = spec.validate?.(c);
  if (problem) d.fatal(path, problem);
  return c;
}
