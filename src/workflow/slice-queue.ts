import type { RequestStream } from '../sources/types.js';
import { compareSlices, type Slice, splitPoints } from './slices.js';

/** How to cut (request-plan.ts): pages per new slice, and the shortest part worth a request of its own. */
export interface CutSizes {
  slicePages: number;
  minPartPages: number;
}

type StreamFor = (startMs: number, endMs: number) => RequestStream;

/**
 * The slices of one source's window: those waiting for a worker and those being read, both kept in
 * window order so the earliest (the commit frontier) is always served first.
 */
export class SliceQueue {
  private readonly pending: Slice[] = [];
  private readonly reading: Slice[] = [];
  private created = 0;

  /** `onAdd` sees every slice as it is made (the sink registers it, to commit in window order). */
  constructor(private readonly onAdd: (slice: Slice) => void) {}

  get count(): number {
    return this.created;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  add(streamIndex: number, stream: RequestStream, startMs: number | null, endMs: number | null): Slice {
    const slice: Slice = {
      id: this.created++,
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
    this.onAdd(slice);
    this.pending.push(slice);
    return slice;
  }

  /** The earliest pending slice in window order, now marked as being read; undefined when none waits. */
  take(): Slice | undefined {
    this.pending.sort(compareSlices);
    const slice = this.pending.shift();
    if (!slice) return undefined;
    slice.reading = true;
    this.reading.push(slice);
    this.reading.sort(compareSlices);
    return slice;
  }

  /**
   * Pages still to read in every unfinished slice, at the density each read so far (or the densest
   * any slice read); null while no slice has read a full page.
   */
  pagesLeft(): number | null {
    const spans = this.reading.map((s) => s.pageSpanMs).filter((span): span is number => span !== null);
    if (spans.length === 0) return null;
    const fallback = Math.min(...spans);
    let pages = 0;
    for (const slice of [...this.reading, ...this.pending]) {
      const from = slice.lastValueMs ?? slice.startMs;
      if (from === null || slice.endMs === null) continue;
      pages += Math.max(0, slice.endMs - from) / (slice.pageSpanMs ?? fallback);
    }
    return pages;
  }

  /** The slice stopped reading (done or failed): it can no longer be cut. */
  release(slice: Slice): void {
    slice.reading = false;
    this.reading.splice(this.reading.indexOf(slice), 1);
  }

  /**
   * Hands the unread rest of a busy slice to `helpers` waiting workers: of the earliest slice in window
   * order that has enough left, so reading stays next to the commit frontier. Any slice may be cut
   * while its next page is in flight: its reader drops records at or past the new end. `streamFor`
   * plans the request of a sub-range. True when new slices were added.
   */
  share(helpers: number, streamFor: StreamFor, sizes: CutSizes): boolean {
    if (helpers <= 0 || this.pending.length > 0) return false;
    for (const slice of this.reading) {
      if (slice.lastValueMs === null || slice.endMs === null) continue;
      const points = splitPoints({
        lastValueMs: slice.lastValueMs,
        endMs: slice.endMs,
        idle: helpers,
        pageSpanMs: slice.pageSpanMs,
        slicePages: sizes.slicePages,
        minPartPages: sizes.minPartPages,
      });
      if (points.length === 0) continue;
      this.cutAt(slice, slice.endMs, points, streamFor);
      return true;
    }
    return false;
  }

  /**
   * Cuts the unread rest of every unfinished slice into even parts of about `partPages` pages (at the
   * density it read, or the densest any slice read), whether or not a worker waits: the new slices
   * wait for workers. A rest shorter than two parts stays whole, so cutting again cuts nothing. True
   * when new slices were added.
   */
  partition(partPages: number, streamFor: StreamFor): boolean {
    const spans = this.reading.map((s) => s.pageSpanMs).filter((span): span is number => span !== null);
    if (spans.length === 0 || partPages <= 0) return false;
    const fallback = Math.min(...spans);
    let added = false;
    for (const slice of [...this.reading, ...this.pending]) {
      const from = slice.lastValueMs ?? slice.startMs;
      if (from === null || slice.endMs === null) continue;
      const pages = (slice.endMs - from) / (slice.pageSpanMs ?? fallback);
      const parts = Math.floor(pages / partPages);
      if (parts < 2) continue;
      // Even parts on whole seconds after the last record read (splitPoints with no density known).
      const points = splitPoints({
        lastValueMs: slice.lastValueMs ?? from - 1000,
        endMs: slice.endMs,
        idle: parts - 1,
        pageSpanMs: null,
        slicePages: partPages,
      });
      if (points.length === 0) continue;
      this.cutAt(slice, slice.endMs, points, streamFor);
      added = true;
    }
    return added;
  }

  /** Ends `slice` at the first point and adds a slice from each point to the next, the last to `end`. */
  private cutAt(slice: Slice, end: number, points: readonly number[], streamFor: StreamFor): void {
    slice.endMs = points[0] as number;
    points.forEach((point, i) => {
      const next = points[i + 1] ?? end;
      this.add(slice.streamIndex, streamFor(point, next), point, next);
    });
  }
}
