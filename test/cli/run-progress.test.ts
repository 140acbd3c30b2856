import { describe, expect, it } from 'vitest';
import { describeSource, etaMs, RunProgress, rowsPerSecond } from '../../src/cli/progress/run-progress.js';
import { windowDone } from '../../src/workflow/fetch-slices.js';
import type { Slice } from '../../src/workflow/slices.js';

const slice = (over: Partial<Slice>): Slice =>
  ({
    id: 0,
    streamIndex: 0,
    startMs: null,
    endMs: null,
    lastValueMs: null,
    pageSpanMs: null,
    rows: 0,
    pages: 0,
    reading: false,
    done: false,
    ...over,
  }) as Slice;

describe('how far through its window a source is', () => {
  const window = { startMs: 0, endMs: 1000 };

  it('counts done slices whole and a slice being read up to its last record', () => {
    const slices = [
      slice({ id: 0, startMs: 0, endMs: 400, done: true }),
      slice({ id: 1, startMs: 400, endMs: 700, lastValueMs: 550 }),
      slice({ id: 2, startMs: 700, endMs: 1000 }),
    ];
    expect(windowDone(slices, window, true)).toBeCloseTo(0.55);
  });

  it('an unsliced stream: its last record against the window', () => {
    expect(windowDone([slice({ lastValueMs: 250 })], window, true)).toBeCloseTo(0.25);
  });

  it('unknown for unsorted reads and unbounded windows', () => {
    expect(windowDone([slice({ lastValueMs: 250 })], window, false)).toBeNull();
    expect(windowDone([slice({ lastValueMs: 250 })], { startMs: null, endMs: 1000 }, true)).toBeNull();
  });
});

describe("a source's progress line", () => {
  it('rows, pages, rows/s, window share, committed and ETA from the events so far', () => {
    const p = new RunProgress();
    p.apply({
      type: 'run-start',
      at: 0,
      runId: 'r',
      workflow: 'w.dig',
      sources: [{ source: 'events', table: 't' }],
    });
    p.apply({ type: 'start', at: 1_000, source: 'events', table: 't', windowStart: 'a', windowEnd: 'b' });
    p.apply({
      type: 'page',
      at: 5_000,
      source: 'events',
      table: 't',
      rows: 8_000,
      pages: 8,
      windowDone: 0.4,
    });
    p.apply({ type: 'commit', at: 5_500, source: 'events', table: 't', inserted: 5_000, committed: 5_000 });
    const [s] = p.inFlight();
    if (!s) throw new Error('no source in flight');
    expect(rowsPerSecond(s, 5_000)).toBe(2_000);
    // 4 s for 40% of the window: 6 s for the rest.
    expect(etaMs(s, 5_000)).toBe(6_000);
    expect(describeSource(s, 5_000)).toBe(
      't: 8,000 rows, 8 pages, 2,000 rows/s, 40% of window, 5,000 committed, ETA 6s',
    );
    p.apply({
      type: 'success',
      at: 9_000,
      source: 'events',
      table: 't',
      records: 9_500,
      duplicatesSkipped: 0,
      pages: 10,
      durationMs: 8_000,
    });
    expect(p.inFlight()).toEqual([]);
    expect(p.sources()[0]).toMatchObject({ phase: 'done', committed: 9_500, windowDone: 1 });
  });
});
