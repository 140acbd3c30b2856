import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { RequestStream, SourceDefinition, SourceParams, TimeWindow } from '../sources/types.js';
import { ChangeSignal } from '../util/change-signal.js';
import { adaptiveConcurrency, type Concurrency, fixedConcurrency } from './concurrency.js';
import type { LoadSink } from './load-sinks.js';
import { type FetchCounts, readSlice, type SliceReading } from './read-slice.js';
import { planRequests } from './request-plan.js';
import { SliceQueue } from './slice-queue.js';
import { type Slice, streamFor } from './slices.js';
import type { AccountFetcher } from './types.js';

export type { FetchCounts };

export interface FetchInput {
  source: SourceDefinition;
  params: SourceParams;
  fetcher: AccountFetcher;
  sink: LoadSink;
  /** The source's request streams, from `source.plan(params)`. */
  streams: RequestStream[];
  /** Cut the window into time slices fetched in parallel (see isSliceable). */
  sliceable: boolean;
  /** Requests of this source in flight at most; the rate limiter paces them. */
  workers: number;
  /**
   * Let the number in flight follow the event loop's spare time, up to `workers` (see
   * adaptiveConcurrency); false keeps it at `workers` (an explicit `--concurrency`).
   */
  adaptive?: boolean;
  /**
   * Whether the destination drops rows read twice (append with a window column: same id and window
   * value; merge: same id). When not, a stream that must restart skips the ids it already wrote.
   */
  dedupesRereads: boolean;
  /** The `time` column of every row. */
  loadTimeSeconds: number;
  signal?: AbortSignal;
  /** After each page: the totals so far and how far through the window reading is (0..1, or null when unknown). */
  onPage?: (counts: Readonly<FetchCounts>, windowDone: number | null) => void;
}

/**
 * How much of the window has been read, 0..1: completed slices count whole, a slice being read up to
 * its last record (records come in ascending order). Null when the order is not ascending or the window
 * is unbounded, where no position means anything.
 */
export function windowDone(slices: readonly Slice[], window: TimeWindow, ascending: boolean): number | null {
  const { startMs, endMs } = window;
  if (!ascending || startMs === null || endMs === null || endMs <= startMs) return null;
  let covered = 0;
  for (const slice of slices) {
    const from = slice.startMs ?? startMs;
    const to = slice.endMs ?? endMs;
    if (slice.done) covered += to - from;
    else if (slice.lastValueMs !== null) covered += Math.min(to, Math.max(from, slice.lastValueMs)) - from;
  }
  return Math.min(1, Math.max(0, covered / (endMs - startMs)));
}

/** Readers ask for their next page early while at most this many requests are allowed (CPU-bound). */
const READ_AHEAD_UP_TO = 2;

/**
 * Fetches a source's window with up to `workers` requests in flight (fewer while the process is
 * CPU-bound, when adaptive). A sliceable window starts as one slice (a small window stays one
 * request); whenever a worker may start and a slice has more pages, the unread rest of the earliest
 * such slice is cut and shared (work stealing), so spare capacity helps next to the commit frontier,
 * but only as far as the rate-limit budget makes it pay (request-plan.ts): when the per-minute
 * window binds, a few large slices read full pages instead of many small ones ending on partial pages.
 * Pages go to the sink as they arrive; the sink decides when rows commit. The first failure stops
 * every slice and is thrown.
 */
export async function fetchSlices(input: FetchInput): Promise<FetchCounts> {
  const counts: FetchCounts = { rows: 0, pages: 0, slices: 0, restarts: 0 };
  const abort = new AbortController();
  // Every page request of every slice listens on this signal.
  setMaxListeners(0, abort.signal);
  const onOuterAbort = () => abort.abort(input.signal?.reason);
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const slices: Slice[] = [];
  const queue = new SliceQueue((slice) => {
    slices.push(slice);
    input.sink.register(slice);
  });
  const ascending = input.streams.length === 1 && input.streams[0]?.ascending === true;
  const change = new ChangeSignal();
  let running = 0;
  let idle = 0;
  let failure: unknown = null;
  /**
   * Once the per-minute budget bound this load, every slice asks for its next page before handling
   * the current one: slices are few (each cut costs a request) and the limiter paces them anyway.
   */
  let rateBound = false;
  /** The sink's checkpoint ran since the window was last found spent. */
  let waitCommitted = false;
  /** The shortest part the plans allowed so far while the window held the rest (request-plan.ts). */
  let leastPart = 1;
  const workers = Math.max(1, input.workers);

  const subRange = input.sliceable
    ? (startMs: number, endMs: number) => streamFor(input.source, input.params, startMs, endMs)
    : null;
  // Time per page of one slice, as a running mean: how many requests one slice sends per second.
  const pageAt = new Map<number, number>();
  const cycle = {
    ms: null as number | null,
    observe(ms: number) {
      this.ms = this.ms === null ? ms : this.ms + 0.2 * (ms - this.ms);
    },
  };
  const first = input.streams[0];
  const budget = () => (first && input.fetcher.budget ? input.fetcher.budget(first.path, first.query) : null);
  const concurrency: Concurrency = input.adaptive
    ? adaptiveConcurrency({
        max: workers,
        saturated: () => running >= concurrency.allowed(),
        pagesRead: () => counts.pages,
        latencyMs: () => budget()?.latencyMs ?? null,
      })
    : fixedConcurrency(workers);
  const { startMs, endMs } = input.params.window;
  if (input.sliceable && input.streams[0]) queue.add(0, input.streams[0], startMs, endMs);
  else for (const [index, stream] of input.streams.entries()) queue.add(index, stream, null, null);

  const reading: SliceReading = {
    source: input.source,
    fetcher: input.fetcher,
    sink: input.sink,
    loadTimeSeconds: input.loadTimeSeconds,
    dedupesRereads: input.dedupesRereads,
    streamFor: subRange,
    counts,
    signal: abort.signal,
    readAhead: () => rateBound || concurrency.allowed() <= READ_AHEAD_UP_TO,
    stopped: () => failure !== null,
    onPage: () => input.onPage?.(counts, windowDone(slices, input.params.window, ascending)),
    onPageArrived: (slice) => {
      const now = performance.now();
      const last = pageAt.get(slice.id);
      if (last !== undefined) cycle.observe(now - last);
      pageAt.set(slice.id, now);
    },
    onFullPage: () => {
      if (!subRange) return;
      // Waiting workers that may start a request now get a share of the earliest busy slice, as
      // many as the bound that holds makes worth it (request-plan.ts).
      const plan = planRequests({
        budget: budget(),
        pagesLeft: queue.pagesLeft(),
        maxChains: concurrency.allowed(),
        workers,
        cycleMs: cycle.ms,
        leastPartPages: leastPart,
      });
      if (plan.bound === 'steady') rateBound = true;
      else leastPart = Math.max(leastPart, plan.minPartPages);
      const helpers = Math.min(idle, concurrency.allowed() - running, plan.chains - running);
      const shared = plan.partition
        ? queue.partition(plan.slicePages, subRange)
        : queue.share(helpers, subRange, plan);
      // Reading waits for the window's reset: the commit due then runs now, while nothing else does.
      // A failed commit surfaces at the next write.
      if (plan.partition && !waitCommitted) input.sink.checkpoint().catch(() => undefined);
      waitCommitted = plan.partition;
      if (shared) change.notify();
    },
  };

  const readOne = async () => {
    const slice = running < concurrency.allowed() ? queue.take() : undefined;
    if (!slice) return false;
    running++;
    try {
      try {
        await readSlice(slice, reading);
      } finally {
        // Off the list before anything else awaits: a slice that stopped reading must not be cut.
        queue.release(slice);
      }
      // A slice cut short because another one failed is not complete: it must never count as done,
      // or a checkpoint would commit the slices after it and leave a gap below the table's max.
      if (failure === null) {
        slice.done = true;
        await input.sink.sliceDone(slice);
      }
    } catch (error) {
      if (failure === null) failure = error;
      abort.abort(error);
    } finally {
      running--;
      change.notify();
    }
    return true;
  };

  const worker = async () => {
    while (failure === null) {
      if (await readOne()) continue;
      if (running === 0) return;
      idle++;
      await change.changed();
      idle--;
    }
  };

  // Worker loops start as the limit first allows them (a loop never ends before the fetch does).
  const loops: Promise<void>[] = [];
  const startWorkers = () => {
    while (loops.length < concurrency.allowed()) loops.push(worker());
  };
  concurrency.onChange(() => {
    startWorkers();
    change.notify();
  });
  startWorkers();
  try {
    for (let i = 0; i < loops.length; i++) await loops[i];
  } finally {
    concurrency.stop();
    input.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (failure !== null) throw failure;
  counts.slices = queue.count;
  return counts;
}
