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

/**
 * Whether a source's window can be cut into time slices fetched in parallel: one request stream,
 * sorted ascending, with both bounds expressible (exactly or widened and cut on our side).
 */
export function isSliceable(
  source: SourceDefinition,
  params: SourceParams,
  streams: readonly RequestStream[],
): boolean {
  if (streams.length !== 1 || !streams[0]?.ascending) return false;
  if (params.window.startMs === null || params.window.endMs === null) return false;
  const name = params.windowField ?? source.catalog.implicitWindowField;
  const field = name ? source.catalog.windowFields[name] : undefined;
  if (!field) return false;
  const ops = new Set(field.operators);
  return (
    (ops.has('less-than') || ops.has('less-or-equal')) &&
    (ops.has('greater-or-equal') || ops.has('greater-than'))
  );
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

/**
 * Where to cut the unread rest of a slice so `newSlices` idle workers can share it: the rest runs from
 * the second after the last record read (records of that second stay with the slice's own cursor) to
 * the slice end, and is divided into `newSlices + 1` parts on whole seconds. The slice keeps the first
 * part (its cursor is already there); each returned point starts a new slice that runs to the next
 * point (the last to the old end). Empty when the rest is too short to share.
 */
export function splitPoints(lastValueMs: number, endMs: number, newSlices: number): number[] {
  const from = Math.floor(lastValueMs / 1000) * 1000 + 1000;
  const seconds = Math.floor((endMs - from) / 1000);
  const parts = Math.min(newSlices + 1, seconds);
  if (parts < 2) return [];
  const points: number[] = [];
  for (let i = 1; i < parts; i++) points.push(from + Math.floor((seconds * i) / parts) * 1000);
  return points;
}
