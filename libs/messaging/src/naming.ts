import { STREAMS, type StreamKey } from '@arcwatch/contracts';

/**
 * Namespacing keeps test files apart on one shared NATS server: streams become `<NS>_AW_…` and
 * subjects `<ns>.aw.…`. Production runs without a namespace, so the canonical names from
 * contracts are the wire names. Code above this layer only ever sees canonical subjects.
 */
export interface Naming {
  readonly namespace: string | undefined;
  streamName(key: StreamKey): string;
  streamSubjects(key: StreamKey): string[];
  /** Canonical subject → wire subject. */
  toWire(subject: string): string;
  /** Wire subject → canonical subject (a subject outside the namespace is returned as is). */
  fromWire(subject: string): string;
}

const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]+$/;

export function createNaming(namespace?: string): Naming {
  const ns = namespace === undefined || namespace === '' ? undefined : namespace;
  if (ns !== undefined && !NAMESPACE_PATTERN.test(ns)) {
    // A dot or wildcard here would silently widen stream subjects into another namespace.
    throw new Error(`invalid messaging namespace "${ns}": use letters, digits, '_' or '-'`);
  }
  const prefix = ns === undefined ? '' : `${ns}.`;
  return {
    namespace: ns,
    streamName: (key) => (ns === undefined ? STREAMS[key].name : `${ns.toUpperCase()}_${STREAMS[key].name}`),
    streamSubjects: (key) => STREAMS[key].subjects.map((s) => prefix + s),
    toWire: (subject) => prefix + subject,
    fromWire: (subject) => (prefix !== '' && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject),
  };
}

/** Durable names may not contain '.', '*', '>' or whitespace (they become API subject tokens). */
export function assertDurableName(durable: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(durable)) {
    throw new Error(`invalid durable name "${durable}": use letters, digits, '_' or '-'`);
  }
}
