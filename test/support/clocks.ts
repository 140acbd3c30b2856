/** Clocks for tests: one moved by hand, one whose sleeps take no time, one that starts at a given moment. */
import { type Clock, systemClock } from '../../src/util/clock.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A clock that only moves when told to. `sleep` registers a timer; `advanceToNext` jumps to the
 * earliest one and fires it. `sleeps` records every requested duration.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        timer.onAbort = () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(signal.reason);
        };
        signal.addEventListener('abort', timer.onAbort, { once: true });
      }
      this.timers.push(timer);
    });
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Jump to the earliest timer and fire every timer due then. */
  advanceToNext(): void {
    if (this.timers.length === 0) return;
    const at = Math.min(...this.timers.map((x) => x.at));
    this.advanceTo(at);
  }

  advanceTo(at: number): void {
    this.t = Math.max(this.t, at);
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const timer of due) {
      if (timer.onAbort) timer.signal?.removeEventListener('abort', timer.onAbort);
      timer.resolve();
    }
  }

  /**
   * Runs `work` while moving time forward whenever nothing is happening for real
   * (`isIdle()`, e.g. no HTTP request in flight) and someone is sleeping.
   */
  async drive<T>(work: Promise<T>, isIdle: () => boolean): Promise<T> {
    let finished = false;
    const guarded = work.finally(() => {
      finished = true;
    });
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (!finished && isIdle() && this.timers.length > 0) this.advanceToNext();
    }
    return guarded;
  }
}

/** Sleeping takes no real time: the clock jumps ahead at once. For sequential code. */
export class InstantClock implements Clock {
  private t: number;
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
  }
}

/** A clock that reads `startMs` when created and then moves with real time (sleeps are real). */
export function clockFrom(startMs: number): Clock & { advance(ms: number): void } {
  let offset = startMs - Date.now();
  return {
    now: () => Date.now() + offset,
    sleep: systemClock.sleep,
    advance(ms: number) {
      offset += ms;
    },
  };
}
