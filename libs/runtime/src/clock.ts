/**
 * Time as a dependency: every service reads the time and arms timers through a Clock, so that
 * schedules (rule groups, windows, escalations, grace periods) are tested without sleeping.
 */
export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout | undefined),
};

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/**
 * A clock that moves only when told. `advance` runs every timer that falls due on the way, in
 * time order, with `now()` set to each timer's due time while it runs.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { id, at: this.t + Math.max(0, ms), fn });
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    const every = Math.max(1, ms);
    this.pending.set(id, { id, at: this.t + every, fn, every });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && 'id' in handle && typeof handle.id === 'number') this.pending.delete(handle.id);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Timers armed and not yet run. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, running due timers; awaits microtasks between them. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      const next = [...this.pending.values()]
        .filter((p) => p.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      if (next.every === undefined) this.pending.delete(next.id);
      else next.at += next.every;
      next.fn();
      // Let promise chains started by the timer settle before the next one runs.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = Math.max(this.t, target);
  }

  /** Sets the time without running timers (for the start of a test). */
  set(ms: number): void {
    this.t = ms;
  }
}
