import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Provider } from '@nestjs/common';
import {
  loadAlertmanagerConfigFile,
  loadArcwatchFile,
  loadTemplates,
  parseAlertmanagerConfig,
  renderer,
  type AlertmanagerConfig,
  type ArcwatchConfig,
  type Renderer,
} from '@arcwatch/alertmanager';
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

export function loadRoutingConfig(config: Pick<NotifierConfig, 'configFile' | 'arcwatchFile'>): RoutingConfig {
  const am = config.configFile
    ? loadAlertmanagerConfigFile(config.configFile)
    : parseAlertmanagerConfig(FALLBACK, '(built-in)');
  const arcwatch = config.arcwatchFile
    ? loadArcwatchFile(config.arcwatchFile)
    : (am.arcwatch ?? { severity: { label: 'severity', map: {}, default: 'P3' }, escalationPolicies: [] });
  const baseDir = config.configFile ? path.dirname(config.configFile) : process.cwd();
  const original = config.configFile ? readFileSync(config.configFile, 'utf8') : FALLBACK;
  return { am, arcwatch, renderer: renderer(loadTemplates(am.templates, baseDir)), original };
}

export const routingConfigProvider: Provider = {
  provide: ROUTING_CONFIG,
  inject: [NOTIFIER_CONFIG],
  useFactory: (config: NotifierConfig) => loadRoutingConfig(config),
};
