import type { RequestCompletedV1 } from '@arcwatch/contracts';
import { decide, type AssemblyPolicy } from './assembly.decider';
import { evolve, type AssemblyEvent, type RequestState } from './request-state';
import type { KeyDirectory } from './tenant-directory';

export type IngestOutcome = 'applied' | 'late';

/**
 * The assembly core held in memory: the offline CLI and the unit tests drive it with event
 * times as the clock. Requests already assembled are remembered, so a late phase or a replayed
 * event of a finished request is reported as `late` instead of starting a second record.
 */
export class InMemoryAssembler {
  private readonly open = new Map<string, RequestState>();
  private readonly finished = new Set<string>();

  constructor(
    private readonly policy: AssemblyPolicy,
    private readonly directory: KeyDirectory,
  ) {}

  ingest(event: AssemblyEvent, seenAtMs: number): IngestOutcome {
    if (this.finished.has(event.requestId)) return 'late';
    this.open.set(event.requestId, evolve(this.open.get(event.requestId), event, seenAtMs));
    return 'applied';
  }

  /** Assembles every request that is due at `nowMs`, in request-id order. */
  tick(nowMs: number): RequestCompletedV1[] {
    const out: RequestCompletedV1[] = [];
    for (const id of [...this.open.keys()].sort()) {
      const decision = decide(this.open.get(id) as RequestState, nowMs, this.policy, this.directory);
      if (decision.type === 'assemble') {
        out.push(decision.record);
        this.open.delete(id);
        this.finished.add(id);
      }
    }
    return out;
  }

  openRequests(): number {
    return this.open.size;
  }
}
