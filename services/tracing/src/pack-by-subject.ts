/**
 * Items grouped by subject, in the order given, then cut into chunks of at most `perMessage`:
 * how the tracing service packs events (ingest) and completed requests (assembly) into batch
 * messages. The subjects come in order of first appearance, so the same items make the same chunks.
 */
export function packBySubject<T>(
  items: readonly T[],
  subjectOf: (item: T) => string,
  perMessage: number,
): Array<{ subject: string; chunk: T[] }> {
  const bySubject = new Map<string, T[]>();
  for (const item of items) {
    const subject = subjectOf(item);
    (bySubject.get(subject) ?? bySubject.set(subject, []).get(subject))?.push(item);
  }
  const out: Array<{ subject: string; chunk: T[] }> = [];
  for (const [subject, all] of bySubject)
    for (let i = 0; i < all.length; i += perMessage) out.push({ subject, chunk: all.slice(i, i + perMessage) });
  return out;
}
