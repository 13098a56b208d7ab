import { ALERT_EVENTS } from '../alerts/alerts.catalog';
import { NOTIFY_EVENTS } from '../notify/notify.catalog';
import { METRICS_EVENTS } from '../metrics/metrics.catalog';
import { REQUEST_EVENTS } from '../requests/requests.catalog';
import { NODE_EVENTS } from '../node/node.catalog';
import { COST_EVENTS } from '../cost/cost.catalog';
import type { PublicEvent } from './public-event';

export type { PublicEvent } from './public-event';

/** Every public event, by context. Add a context's array here when it has public events. */
export const PUBLIC_EVENTS: readonly PublicEvent[] = [
  ...METRICS_EVENTS,
  ...REQUEST_EVENTS,
  ...ALERT_EVENTS,
  ...NOTIFY_EVENTS,
  ...NODE_EVENTS,
  ...COST_EVENTS,
];
export { generateCatalog, eventJsonSchema, schemaFileName, type GeneratedCatalog } from './asyncapi';
