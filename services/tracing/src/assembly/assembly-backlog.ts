import { Injectable } from '@nestjs/common';
import type { ConsumerHandle } from '@arcwatch/messaging';

/**
 * Whether the assembly consumer has caught up with the stream, from what this member took
 * (ConsumerHandle.backlog(): no request to the server, which on NATS 2.9 slows delivery down when
 * asked on every pass; docs/messaging.md). `undefined` until the consumer took its first
 * message: then the caller asks the server once, which is cheap while nothing is delivered.
 * Another member's unacked messages are not seen here: a live member's group is a few hundred
 * milliseconds, but a dead member holds its messages for the ack wait, which is why a request is
 * assembled by a deadline only once AckedBefore says every message stored by then is acked.
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
