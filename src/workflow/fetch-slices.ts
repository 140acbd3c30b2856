import { setMaxListeners } from 'node:events';
import { type Row, TIME_COLUMN } from '../records/row.js';
import { indexIncluded } from '../sources/flatten.js';
import type { RequestStream, ResourcePage, SourceDefinition, SourceParams } from '../sources/types.js';
import { IngestError } from '../util/errors.js';
import { readAhead } from '../util/read-ahead.js';
import { adaptiveConcurrency, type Concurrency, fixedConcurrency } from './concurrency.js';
import type { LoadSink } from './load-sinks.js';
import { compareSlices, type Slice, splitPoints, streamFor } from './slices.js';
import type { AccountFetcher } from './types.js';

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
}

export interface FetchCounts {
  rows: number;
  pages: number;
  slices: number;
  restarts: number;
}

/**
 * Pages per slice when the rest of a slice is shared: large enough that a slice's own staging and
 * commit cost little per row, small enough that all workers together read close to the frontier
 * (8 workers x 10 pages of 1,000 events stay under the sink's read-ahead limit).
 */
const SLICE_PAGES = 10;

/** Readers ask for their next page early while at most this many requests are allowed. */
const READ_AHEAD_UP_TO = 2;

/** How often one slice may restart after its page cursor expired before the error stands. */
const MAX_CURSOR_RESTARTS = 5;

/**
 * Fetches a source's window with up to `workers` requests in flight (fewer while the process is
 * CPU-bound, when adaptive). A sliceable window starts as one slice (a small window stays one
 * request); whenever a worker may start and a slice has more pages, the unread rest of the earliest
 * such slice is cut and shared (work stealing), so spare capacity helps next to the commit frontier.
 * Pages go to the sink as they arrive; the sink decides when rows commit.
 */
export async function fetchSlices(input: FetchInput): Promise<FetchCounts> {
  const counts: FetchCounts = { rows: 0, pages: 0, slices: 0, restarts: 0 };
  const abort = new AbortController();
  // Every page request of every slice listens on this signal.
  setMaxListeners(0, abort.signal);
  const onOuterAbort = () => abort.abort(input.signal?.reason);
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const pending: Slice[] = [];
  /** Slices a worker is reading, in window order. */
  const reading: Slice[] = [];
  let running = 0;
  let idle = 0;
  const workers = Math.max(1, input.workers);
  const concurrency: Concurrency = input.adaptive
    ? adaptiveConcurrency({ max: workers, saturated: () => running >= concurrency.allowed() })
    : fixedConcurrency(workers);
  /** Waiting workers that may start a request now. */
  const spare = () => Math.min(idle, concurrency.allowed() - running);
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  let changed = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const notify = () => {
    const resolve = wake;
    changed = new Promise<void>((r) => {
      wake = r;
    });
    resolve?.();
  };

  const addSlice = (
    streamIndex: number,
    stream: RequestStream,
    startMs: number | null,
    endMs: number | null,
  ) => {
    const slice: Slice = {
      id: counts.slices++,
      streamIndex,
      startMs,
      endMs,
      stream,
      lastValueMs: null,
      pageSpanMs: null,
      rows: 0,
      pages: 0,
      reading: false,
      done: false,
    };
    input.sink.register(slice);
    pending.push(slice);
  };

  const { startMs, endMs } = input.params.window;
  if (input.sliceable && input.streams[0]) addSlice(0, input.streams[0], startMs, endMs);
  else
    input.streams.forEach((stream, index) => {
      addSlice(index, stream, null, null);
    });

  /**
   * Hands the unread rest of a busy slice to the workers that are waiting: of the earliest slice in
   * window order that has enough left, so reading stays next to the commit frontier. Any slice may be
   * cut while its next page is in flight: its reader drops records at or past the new end.
   */
  const share = () => {
    const helpers = spare();
    if (!input.sliceable || helpers <= 0 || pending.length > 0) return;
    for (const slice of reading) {
      if (slice.lastValueMs === null || slice.endMs === null) continue;
      const points = splitPoints({
        lastValueMs: slice.lastValueMs,
        endMs: slice.endMs,
        idle: helpers,
        pageSpanMs: slice.pageSpanMs,
        slicePages: SLICE_PAGES,
      });
      if (points.length === 0) continue;
      const end = slice.endMs;
      slice.endMs = points[0] as number;
      points.forEach((point, i) => {
        const next = points[i + 1] ?? end;
        addSlice(slice.streamIndex, streamFor(input.source, input.params, point, next), point, next);
      });
      notify();
      return;
    }
  };

  const readSlice = async (slice: Slice) => {
    let stream = slice.stream;
    // Ids already written, kept only where a restart could otherwise write a row twice.
    const written = input.dedupesRereads ? null : new Set<string>();
    for (let restarts = 0; ; restarts++) {
      try {
        const pages = input.fetcher.paginate(stream.path, stream.query, { signal: abort.signal });
        // With few requests allowed (CPU-bound), ask for the next page while this one is flattened and
        // staged, unless it already reaches the end; with more, parallel slices already hide round trips.
        const reachesEnd = (page: ResourcePage) => {
          const last = page.data[page.data.length - 1];
          if (!stream.ascending || last === undefined) return false;
          const value = stream.windowValueMs(last);
          return stream.pastEnd(value) || (slice.endMs !== null && value !== null && value >= slice.endMs);
        };
        for await (const page of readAhead(pages, (page) => {
          if (page.nextUrl === null || concurrency.allowed() > READ_AHEAD_UP_TO) return false;
          return !reachesEnd(page);
        })) {
          slice.pages++;
          counts.pages++;
          const included = indexIncluded(page.included);
          const rows: Row[] = [];
          let past = false;
          let firstValue: number | null = null;
          for (const record of page.data) {
            const value = stream.windowValueMs(record);
            firstValue ??= value;
            if (
              stream.ascending &&
              (stream.pastEnd(value) || (slice.endMs !== null && value !== null && value >= slice.endMs))
            ) {
              past = true;
              break;
            }
            if (value !== null) slice.lastValueMs = value;
            if (!stream.inWindow(value) || written?.has(record.id)) continue;
            written?.add(record.id);
            const row = input.source.flatten(record, included);
            row[TIME_COLUMN] = input.loadTimeSeconds;
            rows.push(row);
          }
          if (rows.length > 0) {
            slice.rows += rows.length;
            counts.rows += rows.length;
            await input.sink.write(slice, rows);
          }
          if (past || failure !== null) return;
          if (page.nextUrl) {
            if (firstValue !== null && slice.lastValueMs !== null)
              slice.pageSpanMs = Math.max(1, slice.lastValueMs - firstValue);
            share();
          }
        }
        return;
      } catch (error) {
        const expired = error instanceof IngestError && error.code === 'KLAVIYO_CURSOR_EXPIRED';
        if (!expired || restarts >= MAX_CURSOR_RESTARTS) throw error;
        // The page cursor went stale: start the slice again from the second of the last record read
        // (or from its beginning); rows read twice are dropped by the exactly-once dedupe.
        counts.restarts++;
        const resumeAt =
          slice.lastValueMs === null ? slice.startMs : Math.floor(slice.lastValueMs / 1000) * 1000;
        if (input.sliceable && resumeAt !== null && slice.endMs !== null) {
          stream = streamFor(input.source, input.params, resumeAt, slice.endMs);
        }
      }
    }
  };

  const worker = async () => {
    while (failure === null) {
      // The earliest pending slice in window order first: the frontier is never left waiting.
      pending.sort(compareSlices);
      const slice = running < concurrency.allowed() ? pending.shift() : undefined;
      if (!slice) {
        if (running === 0) return;
        idle++;
        await changed;
        idle--;
        continue;
      }
      running++;
      slice.reading = true;
      reading.push(slice);
      reading.sort(compareSlices);
      try {
        try {
          await readSlice(slice);
        } finally {
          // Off the list before anything else awaits: a slice that stopped reading must not be cut.
          slice.reading = false;
          reading.splice(reading.indexOf(slice), 1);
        }
        // A slice cut short because another one failed is not complete: it must never count as done,
        // or a checkpoint would commit the slices after it and leave a gap below the table's max.
        if (failure !== null) continue;
        slice.done = true;
        await input.sink.sliceDone(slice);
      } catch (error) {
        if (failure === null) failure = error;
        abort.abort(error);
      } finally {
        running--;
        notify();
      }
    }
  };

  // Worker loops start as the limit first allows them (a loop never ends before the fetch does).
  const loops: Promise<void>[] = [];
  const startWorkers = () => {
    while (loops.length < concurrency.allowed()) loops.push(worker());
  };
  concurrency.onChange(() => {
    startWorkers();
    notify();
  });
  startWorkers();
  try {
    for (let i = 0; i < loops.length; i++) await loops[i];
  } finally {
    concurrency.stop();
    input.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (failure !== null) throw failure;
  return counts;
}
