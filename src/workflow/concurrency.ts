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
  /** Pages read so far and the API's mean response time (ms, null before an answer): see `fewestToKeepBusy`. */
  pagesRead?: () => number;
  latencyMs?: () => number | null;
}

/** Below this share of busy event-loop time, more requests in flight can still help; far below, much more. */
const GROW_BELOW = 0.5;
const DOUBLE_BELOW = 0.25;
/** Above it the process is CPU-bound: another page in flight only adds memory and GC. */
const SHRINK_ABOVE = 0.85;
/**
 * How often the limit is reconsidered. Each change has a cost of its own (measured: re-deciding every
 * 250 ms loaded 20% slower than once a second against a local API), and a second still reaches 8
 * within three against a slow one.
 */
const SAMPLE_MS = 1000;

/**
 * More requests in flight only help while the process waits on the network (API latency, rate
 * limits). When parsing, flattening and appending already keep the event loop busy, each extra page
 * in flight is memory and garbage-collection work that slows every other one (measured: against a
 * local API, 1 in flight loads faster and in 40% less memory than 8). So start with one; while every
 * allowed request is in use, double when the event loop is mostly idle and add one when it is half
 * idle; halve while it is busy, so an excursion above what helps is short, but never below what keeps
 * the CPU busy while answers are slow (`fewestToKeepBusy`).
 */
export function adaptiveConcurrency(options: AdaptiveOptions): Concurrency {
  const max = Math.max(1, Math.floor(options.max));
  const measure = options.utilisation ?? eventLoopUtilisation();
  const listeners: (() => void)[] = [];
  let limit = 1;
  let sampledAt = performance.now();
  let pagesAt = options.pagesRead?.() ?? 0;
  let busyMsPerPage: number | null = null;
  const set = (next: number) => {
    if (next === limit) return;
    limit = next;
    for (const listener of listeners) listener();
  };
  const tick = () => {
    const busy = measure();
    const now = performance.now();
    const pages = options.pagesRead?.() ?? 0;
    // A sample that handled no page (a commit, a wait) keeps the last measure.
    if (pages > pagesAt) busyMsPerPage = (busy * (now - sampledAt)) / (pages - pagesAt);
    const least = Math.min(max, fewestToKeepBusy(busyMsPerPage, options.latencyMs?.() ?? null));
    sampledAt = now;
    pagesAt = pages;
    if (busy < GROW_BELOW && limit < max && options.saturated())
      set(Math.min(max, busy < DOUBLE_BELOW ? limit * 2 : limit + 1));
    else if (busy > SHRINK_ABOVE && limit > least) set(Math.max(least, Math.floor(limit / 2)));
  };
  const timer = max > 1 ? setInterval(tick, options.sampleMs ?? SAMPLE_MS) : null;
  timer?.unref();
  return {
    allowed: () => limit,
    onChange: (listener) => listeners.push(listener),
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}

/**
 * While CPU-bound, the fewest requests in flight that still keep the CPU busy: a page takes
 * `busyMsPerPage` of the event loop, and each waits `latencyMs` for its answer, so that rate needs
 * `latencyMs / busyMsPerPage` of them on the way (Little's law). Against a local API that is one;
 * against a slow one, halving below it leaves the CPU waiting on the network.
 */
export function fewestToKeepBusy(busyMsPerPage: number | null, latencyMs: number | null): number {
  if (latencyMs === null || busyMsPerPage === null || !(busyMsPerPage > 0)) return 1;
  return Math.max(1, Math.ceil(latencyMs / busyMsPerPage));
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
