import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AlertmanagerConfigError, loadAlertmanagerConfigFile, type LoadOptions } from '../config/alertmanager-config';
import { TemplateError, TemplateSet } from '../template/go-template';
import { expandTemplateGlob } from '../template/notification-template';

export interface CheckConfigResult {
  /** What amtool check-config prints for this file, ending with a newline. */
  text: string;
  failures: number;
  error?: unknown;
}

/** `amtool check-config` for one file: load, then parse the templates the config names. */
export function checkConfigFile(file: string, opts: LoadOptions = {}): CheckConfigResult {
  let text = `Checking '${file}'`;
  try {
    const cfg = loadAlertmanagerConfigFile(file, opts);
    text += '  SUCCESS\nFound:\n';
    text += ' - global config\n - route\n';
    text += ` - ${cfg.inhibitRules.length} inhibit rules\n - ${cfg.receivers.length} receivers\n - ${cfg.templates.length} templates\n`;
    let failures = 0;
    let error: unknown;
    if (cfg.templates.length > 0) {
      try {
        const set = new TemplateSet();
        for (const g of cfg.templates) {
          for (const f of expandTemplateGlob(g, path.dirname(file))) set.parse(f, readFileSync(f, 'utf8'));
        }
        text += '  SUCCESS\n';
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        text += `  FAILED: ${e.message}\n`;
        failures++;
        error = e;
      }
    }
    return { text: `${text}\n`, failures, error };
  } catch (e) {
    if (!(e instanceof AlertmanagerConfigError)) throw e;
    return { text: `${text}  FAILED: ${e.amMessage}\n\n`, failures: 1, error: e };
  }
}
