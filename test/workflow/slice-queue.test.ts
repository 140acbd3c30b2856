import { describe, expect, it } from 'vitest';
import type { RequestStream } from '../../src/sources/types.js';
import { SliceQueue } from '../../src/workflow/slice-queue.js';
import type { Slice } from '../../src/workflow/slices.js';

const at = (second: number) => Date.UTC(2025, 8, 1, 0, 0, second);
/** The queue only carries a slice's request along; which one does not matter here. */
const streamFor = (startMs: number, endMs: number) =>
  ({ path: '/api/events', startMs, endMs }) as unknown as RequestStream;

/** A queue with one slice being read: [0 s, endSecond), last record at 10.5 s, a page covering 2 s. */
function readingQueue(endSecond: number) {
  const made: Slice[] = [];
  const queue = new SliceQueue((slice) => made.push(slice));
  queue.add(0, streamFor(at(0), at(endSecond)), at(0), at(endSecond));
  const slice = queue.take() as Slice;
  slice.lastValueMs = at(10) + 500;
  slice.pageSpanMs = 2000;
  return { queue, slice, made };
}

describe('SliceQueue.partition (the window is spent: cut the rest now, for the reset)', () => {
  it('cuts the rest of a slice being read into even parts that wait for workers, with no idle worker', () => {
    // 40 s left after the last record's second = 20 pages; parts of 5 pages: 4 parts of 10 s.
    const { queue, slice, made } = readingQueue(51);
    expect(queue.partition(5, streamFor)).toBe(true);
    expect(slice.endMs).toBe(at(21));
    expect(made.slice(1).map((s) => [s.startMs, s.endMs])).toEqual([
      [at(21), at(31)],
      [at(31), at(41)],
      [at(41), at(51)],
    ]);
    expect(queue.hasPending).toBe(true);
    // Every part now shorter than two parts: cutting again cuts nothing (no request wasted).
    expect(queue.partition(5, streamFor)).toBe(false);
    expect(queue.count).toBe(4);
  });

  it('cuts a waiting slice from its start at the density read so far, and leaves a rest under two parts whole', () => {
    const { queue, slice, made } = readingQueue(25);
    // 14 s left = 7 pages: under two parts of 5, stays whole; the waiting slice of 40 s (20 pages) is cut.
    queue.add(0, streamFor(at(100), at(140)), at(100), at(140));
    expect(queue.partition(5, streamFor)).toBe(true);
    expect(slice.endMs).toBe(at(25));
    expect(made.map((s) => [s.startMs, s.endMs])).toEqual([
      [at(0), at(25)],
      [at(100), at(110)],
      [at(110), at(120)],
      [at(120), at(130)],
      [at(130), at(140)],
    ]);
  });

  it('cuts nothing before any slice read a full page (the density is unknown)', () => {
    const made: Slice[] = [];
    const queue = new SliceQueue((slice) => made.push(slice));
    queue.add(0, streamFor(at(0), at(1000)), at(0), at(1000));
    queue.take();
    expect(queue.partition(5, streamFor)).toBe(false);
    expect(made).toHaveLength(1);
  });
});
