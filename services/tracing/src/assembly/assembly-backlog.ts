import { Injectable } from '@nestjs/common';
import type { ConsumerHandle } from '@arcwatch/messaging';

/**
 * Whether the assembly consumer has caught up with the stream, from what this member took
 * (ConsumerHandle.backlog(): no request to the server, which on NATS 2.9 slows delivery down when
 * asked on every pass; docs/messaging.md). `undefined` until the consumer took its first
 * message: then the caller asks the server once, which is cheap while nothing is delivered.
 * With several replicas, another member's unacked group is not seen here; it is at most one
 * group of a few hundred milliseconds, well inside the completion grace period.
 */
@Injectable()
export class AssemblyBacklog {
  private handle: ConsumerHandle | undefined;

  attach(handle: ConsumerHandle): void {
    this.handle = handle;
  }

  caughtUp(): boolean | undefined {
    const b = this.handle?.backlog();
    if (!b || b.undelivered === undefined) return undefined;
    return b.undelivered === 0 && b.inFlight === 0 && b.awaitingRedelivery === 0;
  }
}
