/**
 * Alert label and annotation templates as Prometheus expands them: the text is prefixed with the
 * variable definitions `$labels`, `$externalLabels`, `$externalURL`, `$value`, named
 * `__alert_<alertname>`, and an expansion error becomes `<error expanding template: …>`.
 */
import { GoStruct, TemplateExecutor } from './go-template.exec';
import { parseTemplate, TemplateError, type ParsedTemplate } from './go-template.parser';
import { TEMPLATE_FUNCTION_NAMES, templateFunctions, type TemplateQuery } from './template-functions';

const DEFS =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';
const DATA_TYPE =
  'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }';

export interface AlertTemplateInput {
  alertName: string;
  labels: Record<string, string>;
  externalLabels: Record<string, string>;
  externalUrl: string;
  value: number;
  timeMs: number;
  query: TemplateQuery;
}

const cache = new Map<string, ParsedTemplate>();

function parsed(text: string, name: string): ParsedTemplate {
  const key = `${name}\u0000${text}`;
  let t = cache.get(key);
  if (!t) {
    t = parseTemplate(DEFS + text, name, TEMPLATE_FUNCTION_NAMES);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, t);
  }
  return t;
}

/** Parses a label or annotation template; returns Go's parse error text, or undefined. */
export function checkAlertTemplate(text: string, alertName: string): string | undefined {
  try {
    parsed(text, `__alert_${alertName}`);
    return undefined;
  } catch (e) {
    if (e instanceof TemplateError) return e.message;
    throw e;
  }
}

export async function expandAlertTemplate(text: string, input: AlertTemplateInput): Promise<string> {
  // Templates without actions are the common case; skip the machinery for them.
  if (!text.includes('{{')) return text;
  const name = `__alert_${input.alertName}`;
  try {
    const t = parsed(text, name);
    const data = new GoStruct(DATA_TYPE, {
      Labels: input.labels,
      ExternalLabels: input.externalLabels,
      ExternalURL: input.externalUrl,
      Value: input.value,
    });
    const funcs = templateFunctions({ query: input.query, timeMs: input.timeMs, externalUrl: input.externalUrl });
    return await new TemplateExecutor(t, name, funcs).execute(data);
  } catch (e) {
    if (e instanceof TemplateError) return `<error expanding template: ${e.message}>`;
    throw e;
  }
}
