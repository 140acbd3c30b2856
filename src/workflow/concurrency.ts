import { performance } from 'node:perf_hooks';

/** How many requests a fetch may keep in flight right now. */
export interface Concurrency {
  allowed(): number;
  /** Called with the new limit whenever it changes. */
  onChange(listener: () => void): void;
  stop(): void;
}

/** A fixed limit (`--concurrency N`, tests). */
export function fixedConcurrency(n: number): Concurrency {
  const limit = Math.max(1, Math.floor(n));
  return { allowed: () => limit, onChange: () => undefined, stop: () => undefined };
}

export interface AdaptiveOptions {
  /** Upper bound: the endpoint tier's workers. */
  max: number;
  /** Whether the fetch is using all it is allowed (more would only help then). */
  saturated: () => boolean;
  sampleMs?: number;
  /** Event-loop utilisation (0..1) since the previous call; injectable for tests. */
  utilisation?: () => number;
}

/** Below this share of busy event-loop time, more requests in flight can still help. */
const GROW_BELOW = 0.6;
/** Above it the process is CPU-bound: another page in flight only adds memory and GC. */
const SHRINK_ABOVE = 0.9;

/**
 * More requests in flight only help while the process waits on the network (API latency, rate
 * limits). When parsing, flattening and appending already keep the event loop busy, each extra page
 * in flight is memory and garbage-collection work that slows every other one (measured: against a
 * local API, 1 in flight loads faster and in 40% less memory than 8). So start with one, double while
 * the event loop is mostly idle and every allowed request is in use, and step down while it is busy.
 */
export function adaptiveConcurrency(options: AdaptiveOptions): Concurrency {
  const max = Math.max(1, Math.floor(options.max));
  const measure = options.utilisation ?? eventLoopUtilisation();
  const listeners: (() => void)[] = [];
  let limit = 1;
  const set = (next: number) => {
    if (next === limit) return;
    limit = next;
    for (const listener of listeners) listener();
  };
  const tick = () => {
    const busy = measure();
    if (busy < GROW_BELOW && limit < max && options.saturated()) set(Math.min(max, limit * 2));
    else if (busy > SHRINK_ABOVE && limit > 1) set(limit - 1);
  };
  const timer = max > 1 ? setInterval(tick, options.sampleMs ?? 250) : null;
  timer?.unref();
  return {
    allowed: () => limit,
    onChange: (listener) => listeners.push(listener),
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}

function eventLoopUtilisation(): () => number {
  let previous = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, previous);
    previous = now;
    return delta.utilization;
  };
}
