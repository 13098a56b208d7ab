import type { z } from 'zod';
import type { StreamKey } from '../subjects';

/**
 * One public event in the catalogue that billing systems and notification integrations read: the
 * AsyncAPI document and the JSON Schemas under docs/events/ are generated from these entries, and
 * a test fails when the generated files are stale. A new public event is listed by adding its
 * entry to its context's `*.catalog.ts` and that array to `PUBLIC_EVENTS`.
 */
export interface PublicEvent {
  /** CloudEvents `type`, e.g. io.arcwatch.cost.allocated.v1; also the schema's name. */
  type: string;
  /** Short human title. */
  title: string;
  description: string;
  stream: StreamKey;
  /** Subject pattern; `{name}` marks a token taken from the data (e.g. aw.cost.v1.allocated.{tenant}). */
  subject: string;
  /** Explains each `{name}` token of `subject`. */
  subjectTokens?: Record<string, string>;
  /** The `data` of the CloudEvent. */
  schema: z.ZodType;
  publishers: readonly string[];
  consumers: readonly string[];
  /** How the CloudEvent id (and Nats-Msg-Id) is derived, i.e. what a replay or retry dedups on. */
  idPromise: string;
  /** What ordering a consumer may rely on, if any. */
  ordering: string;
}
