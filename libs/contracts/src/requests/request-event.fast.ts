import { z } from 'zod';
import { REQUEST_EVENT_KINDS, type RequestEventInput, type RequestEventV1 } from './request-event.v1';

/*
 * A fast path in front of the zod schemas of request events, for the ingest and the assembly
 * consumer, which parse every event (tens of thousands a second; zod took ~2 µs an event, twice
 * per event on the way through). It accepts only the plain cases, where what zod would do is
 * beyond doubt: known keys only, ASCII strings, safe non-negative integers, the timestamp matched
 * by zod's own pattern. It then returns the object zod would return (same keys, same order).
 * Anything else, valid or not, gets `undefined`, and the caller asks zod, which decides and words
 * the error. A property spec holds it to that: whatever it accepts, zod accepts with an equal
 * result.
 */

const KINDS: ReadonlySet<string> = new Set(REQUEST_EVENT_KINDS);
const DATETIME = z.regexes.datetime({ offset: true });
const API_KEY_HASH = /^[0-9a-f]{64}$/;
const MAX_GPU_UUIDS = 64;

/** The plain string fields in schema order, with the longest string each may be. */
const STRING_FIELDS: ReadonlyArray<readonly [keyof RequestEventInput, number]> = [
  ['tenant', 128],
  ['team', 128],
  ['project', 128],
  ['model', 256],
  ['modelVersion', 128],
  ['instance', 256],
  ['node', 256],
];
const KNOWN = new Set<string>([
  'requestId',
  'kind',
  'time',
  ...STRING_FIELDS.map(([k]) => k),
  'gpuUuids',
  'promptTokens',
  'completionTokens',
  'cachedTokens',
  'finishReason',
  'error',
  'apiKey',
  'apiKeyHash',
]);

/** A string of 1..max ASCII characters (where zod's length and ours cannot differ). */
function asciiString(v: unknown, max: number, min = 1): v is string {
  if (typeof v !== 'string' || v.length < min || v.length > max) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0x7f) return false;
  return true;
}

function tokenCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function plainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The event as requestEventInputSchema (`withApiKey`) or requestEventV1Schema would parse it, or
 * undefined when it is not one of the plain cases.
 */
function fastEvent(raw: unknown, withApiKey: boolean): RequestEventInput | undefined {
  if (!plainObject(raw)) return undefined;
  for (const k in raw) if (!KNOWN.has(k) || raw[k] === undefined) return undefined;
  const { requestId, kind, time } = raw;
  if (!asciiString(requestId, 256) || typeof kind !== 'string' || !KINDS.has(kind)) return undefined;
  if (typeof time !== 'string' || !DATETIME.test(time)) return undefined;
  const out: Record<string, unknown> = { requestId, kind, time };
  for (const [k, max] of STRING_FIELDS) {
    const v = raw[k];
    if (v === undefined) continue;
    if (!asciiString(v, max)) return undefined;
    out[k] = v;
  }
  const gpus = raw.gpuUuids;
  if (gpus !== undefined) {
    if (!Array.isArray(gpus) || gpus.length > MAX_GPU_UUIDS) return undefined;
    for (const g of gpus) if (!asciiString(g, 128)) return undefined;
    out.gpuUuids = [...(gpus as string[])];
  }
  for (const k of ['promptTokens', 'completionTokens', 'cachedTokens'] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (!tokenCount(v)) return undefined;
    out[k] = v;
  }
  if (raw.finishReason !== undefined) {
    if (!asciiString(raw.finishReason, 64)) return undefined;
    out.finishReason = raw.finishReason;
  }
  const error = raw.error;
  if (error !== undefined) {
    if (!plainObject(error)) return undefined;
    for (const k in error) if ((k !== 'code' && k !== 'message') || error[k] === undefined) return undefined;
    if (!asciiString(error.code, 64)) return undefined;
    if (error.message !== undefined && !asciiString(error.message, 2000, 0)) return undefined;
    out.error = error.message === undefined ? { code: error.code } : { code: error.code, message: error.message };
  }
  const { apiKey, apiKeyHash } = raw;
  if (apiKey !== undefined) {
    // The v1 form refuses a raw key, and both at once is an error: zod words either.
    if (!withApiKey || apiKeyHash !== undefined || !asciiString(apiKey, 512)) return undefined;
    out.apiKey = apiKey;
  }
  if (apiKeyHash !== undefined) {
    if (typeof apiKeyHash !== 'string' || !API_KEY_HASH.test(apiKeyHash)) return undefined;
    out.apiKeyHash = apiKeyHash;
  }
  return out as RequestEventInput;
}

/** requestEventInputSchema's result for a plain event, else undefined (ask the schema). */
export function fastRequestEventInput(raw: unknown): RequestEventInput | undefined {
  return fastEvent(raw, true);
}

/** requestEventV1Schema's result for a plain event, else undefined (ask the schema). */
export function fastRequestEventV1(raw: unknown): RequestEventV1 | undefined {
  return fastEvent(raw, false) as RequestEventV1 | undefined;
}
