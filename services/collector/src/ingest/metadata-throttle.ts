import { createHash } from 'node:crypto';
import type { MetricMetadata } from '@arcwatch/contracts';

/** A target's unchanged metadata is sent again after this, so the store's last_seen stays fresh. */
export const METADATA_RESEND_MS = 3_600_000;
const MAX_TARGETS = 50_000;

/**
 * Metadata rides in a target's batch only when it changed or an hour has passed: a DCGM target
 * describes ~50 families in a few kilobytes, the same at every scrape, which would otherwise
 * grow every batch on the ingest path for nothing (the writer stores each declaration once).
 */
export class MetadataThrottle {
  private readonly sent = new Map<string, { digest: string; atMs: number }>();
  /** The last list digested: a push gives every one of its targets the same list. */
  private last: { list: readonly MetricMetadata[]; digest: string } | undefined;

  constructor(private readonly resendMs = METADATA_RESEND_MS) {}

  /** The metadata to put in this batch of the target, or undefined. */
  take(target: string, metadata: readonly MetricMetadata[] | undefined, nowMs: number): MetricMetadata[] | undefined {
    if (metadata === undefined || metadata.length === 0) return undefined;
    if (this.last?.list !== metadata)
      this.last = { list: metadata, digest: createHash('sha256').update(JSON.stringify(metadata)).digest('base64') };
    const digest = this.last.digest;
    const prev = this.sent.get(target);
    if (prev !== undefined && prev.digest === digest && nowMs - prev.atMs < this.resendMs) return undefined;
    if (prev === undefined && this.sent.size >= MAX_TARGETS) this.sent.clear();
    this.sent.set(target, { digest, atMs: nowMs });
    return [...metadata];
  }

  /** A batch that carried metadata was not published: send it with the next one. */
  forget(target: string): void {
    this.sent.delete(target);
  }
}
