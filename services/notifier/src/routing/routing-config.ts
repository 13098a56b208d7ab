import path from 'node:path';
import type { Provider } from '@nestjs/common';
import {
  loadTemplates,
  parseAlertmanagerConfig,
  parseArcwatchText,
  renderer,
  type AlertmanagerConfig,
  type ArcwatchConfig,
  type Renderer,
} from '@arcwatch/alertmanager';
import { readConfigText } from '@arcwatch/config-files';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';

/** Routing, receivers, escalation policies and templates, loaded once at start (a bad file stops the start with file:line). */
export interface RoutingConfig {
  am: AlertmanagerConfig;
  arcwatch: ArcwatchConfig;
  renderer: Renderer;
  /** The file's text, for GET /api/v2/status. */
  original: string;
}

export const ROUTING_CONFIG = Symbol('ROUTING_CONFIG');

/** Without a file: one receiver that delivers nowhere, so alerts are still kept, shown and silenced. */
const FALLBACK = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n';

/** `read` gives a file's text; the console's editor passes the edited text for one file to check it before writing. */
export function loadRoutingConfig(
  config: Pick<NotifierConfig, 'configFile' | 'arcwatchFile'>,
  read: (file: string) => string = readConfigText,
): RoutingConfig {
  const original = config.configFile ? read(config.configFile) : FALLBACK;
  const am = parseAlertmanagerConfig(original, config.configFile ?? '(built-in)');
  const arcwatch = config.arcwatchFile
    ? parseArcwatchText(read(config.arcwatchFile), config.arcwatchFile)
    : (am.arcwatch ?? { severity: { label: 'severity', map: {}, default: 'P3' }, escalationPolicies: [] });
  const baseDir = config.configFile ? path.dirname(config.configFile) : process.cwd();
  return { am, arcwatch, renderer: renderer(loadTemplates(am.templates, baseDir)), original };
}

export const routingConfigProvider: Provider = {
  provide: ROUTING_CONFIG,
  inject: [NOTIFIER_CONFIG],
  useFactory: (config: NotifierConfig) => loadRoutingConfig(config),
};
