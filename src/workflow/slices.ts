import type { RequestStream, SourceDefinition, SourceParams } from '../sources/types.js';

/**
 * A unit of fetching: one request stream, for sliceable sources narrowed to [startMs, endMs) of the
 * window. A running slice can hand the far part of its range to another worker (its `endMs` shrinks);
 * slices are committed in `order` so the table's max only ever covers a contiguous, complete prefix.
 */
export interface Slice {
  /** Unique, in creation order. */
  readonly id: number;
  readonly streamIndex: number;
  readonly startMs: number | null;
  /** Exclusive; shrinks when the slice is split. Null for streams that cannot be sliced. */
  endMs: number | null;
  readonly stream: RequestStream;
  /** Window value (epoch ms) of the last record read: where a restart resumes and a split begins. */
  lastValueMs: number | null;
  /** Window time the slice's last full page covered: its density, for sizing splits. */
  pageSpanMs: number | null;
  rows: number;
  pages: number;
  /** A worker is reading it. */
  reading: boolean;
  done: boolean;
}

/** Commit order: by stream, then by start of range. */
export function compareSlices(a: Slice, b: Slice): number {
  return a.streamIndex - b.streamIndex || (a.startMs ?? 0) - (b.startMs ?? 0) || a.id - b.id;
}

/** Whether a source's window can be cut into time slices fetched in parallel (the source decides). */
export function isSliceable(streams: readonly RequestStream[]): boolean {
  return streams.length === 1 && streams[0]?.sliceable === true;
}

/** The request stream of one sub-range of the window, built by the source itself. */
export function streamFor(
  source: SourceDefinition,
  params: SourceParams,
  startMs: number,
  endMs: number,
): RequestStream {
  const [stream] = source.plan({ ...params, window: { startMs, endMs } });
  if (!stream) throw new Error(`internal: ${params.dataSource} planned no request for a slice`);
  return stream;
}

export interface SplitInput {
  /** Window value of the last record the slice read. */
  lastValueMs: number;
  /** The slice's (exclusive) end. */
  endMs: number;
  /** Workers waiting for work. */
  idle: number;
  /** Window time one full page of this slice covered (null before a full page was read). */
  pageSpanMs: number | null;
  /** Pages each new slice should hold, at the density read so far. */
  slicePages: number;
  /** No part shorter than this many pages (default 1): cutting it off would cost more than it hides. */
  minPartPages?: number;
}

/**
 * Where to cut the unread rest of a slice so idle workers can share it. The rest runs from the second
 * after the last record read (records of that second stay with the slice's own cursor) to the slice's
 * end; cuts are on whole seconds. Returns ascending points: the slice keeps the part before the first,
 * and each point starts a new slice that runs to the next point (the last to the old end).
 *
 * Reading stays in a band just ahead of the commit frontier: at the density of the slice's last page,
 * the slice keeps about `slicePages` pages, each idle worker gets the next `slicePages`, and whatever
 * lies beyond becomes one more slice that waits its turn. Slices far ahead would only be held back by
 * back-pressure, leaving the frontier to one worker. With the density unknown, or a rest too short
 * for that, the rest is cut evenly, never into parts shorter than a page or a second. Empty when the
 * rest is too short to share.
 */
export function splitPoints(input: SplitInput): number[] {
  const { lastValueMs, endMs, idle, pageSpanMs, slicePages } = input;
  const from = Math.floor(lastValueMs / 1000) * 1000 + 1000;
  const seconds = Math.floor((endMs - from) / 1000);
  const minPartSeconds = Math.max(1, Math.ceil(((pageSpanMs ?? 0) * (input.minPartPages ?? 1)) / 1000));
  const chunkSeconds =
    pageSpanMs === null ? null : Math.max(minPartSeconds, Math.ceil((pageSpanMs * slicePages) / 1000));
  if (chunkSeconds !== null && seconds > chunkSeconds * (idle + 1)) {
    const points: number[] = [];
    for (let i = 1; i <= idle + 1; i++) points.push(from + chunkSeconds * i * 1000);
    return points;
  }
  const parts = Math.min(idle + 1, Math.floor(seconds / minPartSeconds));
  if (parts < 2) return [];
  const points: number[] = [];
  for (let i = 1; i < parts; i++) points.push(from + Math.floor((seconds * i) / parts) * 1000);
  return points;
}
