import { TextDecoder } from 'node:util';
import type { ExpositionFormat } from './types';

const EOF_PROBE_BYTES = 16;

/**
 * OpenMetrics when the Content-Type says `application/openmetrics-text`, or when the body ends
 * with the `# EOF` line that only OpenMetrics has; text 0.0.4 otherwise (what Prometheus assumes
 * for `text/plain` and for a missing header).
 */
export function detectFormat(contentType?: string, body?: string | Uint8Array): ExpositionFormat {
  if (contentType && contentType.toLowerCase().includes('application/openmetrics-text')) return 'openmetrics';
  if (body === undefined) return 'prometheus';
  const tail =
    typeof body === 'string'
      ? body.slice(-EOF_PROBE_BYTES)
      : new TextDecoder().decode(body.subarray(Math.max(0, body.length - EOF_PROBE_BYTES)));
  const trimmed = tail.endsWith('\n') ? tail.slice(0, -1) : tail;
  return trimmed.endsWith('\n# EOF') || trimmed === '# EOF' ? 'openmetrics' : 'prometheus';
}
