import { type Row, TIME_COLUMN } from '../records/row.js';
import { indexIncluded } from '../sources/flatten.js';
import type { RequestStream, ResourcePage, SourceDefinition } from '../sources/types.js';
import { IngestError } from '../util/errors.js';
import { readAhead } from '../util/read-ahead.js';
import type { LoadSink } from './load-sinks.js';
import type { Slice } from './slices.js';
import type { AccountFetcher } from './types.js';

/** How often one slice may restart after its page cursor expired before the error stands. */
const MAX_CURSOR_RESTARTS = 5;

export interface FetchCounts {
  rows: number;
  pages: number;
  slices: number;
  restarts: number;
}

/** What reading one slice needs from the fetch it belongs to. */
export interface SliceReading {
  source: SourceDefinition;
  fetcher: AccountFetcher;
  sink: LoadSink;
  /** The `time` column of every row. */
  loadTimeSeconds: number;
  /** When the destination does not drop rows read twice, a restarted slice skips the ids it wrote. */
  dedupesRereads: boolean;
  /** The request of a sub-range of the window, for a restart; null when the window cannot be sliced. */
  streamFor: ((startMs: number, endMs: number) => RequestStream) | null;
  counts: FetchCounts;
  signal: AbortSignal;
  /** Whether to ask for the next page while this one is staged (few requests allowed: CPU-bound). */
  readAhead: () => boolean;
  /** True once another slice failed: stop after the current page. */
  stopped: () => boolean;
  /** Called as each page arrives (the fetch times its slices). */
  onPageArrived: (slice: Slice) => void;
  /** Called after each page is counted and its rows handed to the sink. */
  onPage?: () => void;
  /** Called after each full page that has a next one: a chance to share the slice's rest. */
  onFullPage: () => void;
}

/** Whether a record's window value lies past the end of the stream or of the (possibly cut) slice. */
function isPast(stream: RequestStream, slice: Slice, value: number | null): boolean {
  return stream.pastEnd(value) || (slice.endMs !== null && value !== null && value >= slice.endMs);
}

/**
 * The rows of one page inside the slice's window, stamped with the load's time; `past` once a record
 * lies past the slice's end (ascending streams), when the slice is complete. Records that were written
 * already (`written`, on restarts) are skipped.
 */
function pageRows(
  page: ResourcePage,
  slice: Slice,
  stream: RequestStream,
  reading: SliceReading,
  written: Set<string> | null,
): { rows: Row[]; past: boolean; firstValue: number | null } {
  const included = indexIncluded(page.included);
  const rows: Row[] = [];
  let firstValue: number | null = null;
  for (const record of page.data) {
    const value = stream.windowValueMs(record);
    firstValue ??= value;
    if (stream.ascending && isPast(stream, slice, value)) return { rows, past: true, firstValue };
    if (value !== null) slice.lastValueMs = value;
    if (!stream.inWindow(value) || written?.has(record.id)) continue;
    written?.add(record.id);
    const row = reading.source.flatten(record, included);
    row[TIME_COLUMN] = reading.loadTimeSeconds;
    rows.push(row);
  }
  return { rows, past: false, firstValue };
}

/**
 * Reads one slice page by page into the sink. When the page cursor expires, the slice starts again
 * from the second of the last record read (or from its beginning); rows read twice are dropped by the
 * exactly-once dedupe, or by `written` where the destination does not dedupe.
 */
export async function readSlice(slice: Slice, reading: SliceReading): Promise<void> {
  let stream = slice.stream;
  const written = reading.dedupesRereads ? null : new Set<string>();
  const reachesEnd = (page: ResourcePage) => {
    const last = page.data[page.data.length - 1];
    return stream.ascending && last !== undefined && isPast(stream, slice, stream.windowValueMs(last));
  };
  for (let restarts = 0; ; restarts++) {
    try {
      // Rows are flattened and stored: nested attributes can stay the API's JSON text.
      const pages = reading.fetcher.paginate(stream.path, stream.query, {
        signal: reading.signal,
        rawJsonAttributes: true,
      });
      // With few requests allowed (CPU-bound), ask for the next page while this one is flattened and
      // staged, unless it already reaches the end; with more, parallel slices already hide round trips.
      const early = (page: ResourcePage) => page.nextUrl !== null && reading.readAhead() && !reachesEnd(page);
      for await (const page of readAhead(pages, early)) {
        reading.onPageArrived(slice);
        slice.pages++;
        reading.counts.pages++;
        const { rows, past, firstValue } = pageRows(page, slice, stream, reading, written);
        if (rows.length > 0) {
          slice.rows += rows.length;
          reading.counts.rows += rows.length;
          await reading.sink.write(slice, rows);
        }
        reading.onPage?.();
        if (past || reading.stopped()) return;
        if (page.nextUrl) {
          if (firstValue !== null && slice.lastValueMs !== null)
            slice.pageSpanMs = Math.max(1, slice.lastValueMs - firstValue);
          reading.onFullPage();
        }
      }
      return;
    } catch (error) {
      const expired = error instanceof IngestError && error.code === 'KLAVIYO_CURSOR_EXPIRED';
      if (!expired || restarts >= MAX_CURSOR_RESTARTS) throw error;
      reading.counts.restarts++;
      const resumeAt =
        slice.lastValueMs === null ? slice.startMs : Math.floor(slice.lastValueMs / 1000) * 1000;
      if (reading.streamFor && resumeAt !== null && slice.endMs !== null)
        stream = reading.streamFor(resumeAt, slice.endMs);
    }
  }
}
