/**
 * Long computations that share a process with request handling: compaction folds a minute of a
 * 1,000-GPU fleet (over a million samples, 27,500 chunks) in a few seconds of CPU, and done in
 * one synchronous stretch it holds up every query, push and acknowledgement of the process for
 * that long. A loop that asks `due()` after each item and, when it is, awaits `pause()` hands
 * the event loop back at least every `budgetMs` of its own work.
 */
export class EventLoopSlices {
  private since = performance.now();
  /** Times the computation gave the event loop back. */
  pauses = 0;

  constructor(private readonly budgetMs = 10) {}

  /** Whether the current slice has used its budget. */
  due(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  /** Lets timers, I/O callbacks and other promise chains run (setImmediate), then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.pauses++;
    this.since = performance.now();
  }
}
