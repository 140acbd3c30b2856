import { describe, expect, it } from 'vitest';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import type { RunProjectInput } from '../../src/workflow/run-project.js';
import { splitPoints } from '../../src/workflow/slices.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, dropSchema, queryDestination } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const INC_START = Date.UTC(2025, 8, 1);

describe('splitPoints', () => {
  const at = (second: number) => Date.UTC(2025, 8, 1, 0, 0, second);
  const last = Date.UTC(2025, 8, 1, 0, 0, 10, 500);

  it('with the density unknown, cuts the rest evenly on whole seconds after the last record', () => {
    expect(
      splitPoints({ lastValueMs: last, endMs: at(41), idle: 2, pageSpanMs: null, slicePages: 10 }),
    ).toEqual([at(21), at(31)]);
    // Too little left to share.
    expect(
      splitPoints({ lastValueMs: last, endMs: at(12), idle: 4, pageSpanMs: null, slicePages: 10 }),
    ).toEqual([]);
    expect(
      splitPoints({ lastValueMs: last, endMs: at(13), idle: 4, pageSpanMs: null, slicePages: 10 }),
    ).toEqual([at(12)]);
  });

  it('keeps reading next to the frontier: slicePages worth per worker, the far rest as one waiting slice', () => {
    // A page covered 2 s, so 3 pages are 6 s: the slice keeps 11..17, two workers get 17..23 and
    // 23..29, and 29..1000 waits for whoever finishes first.
    expect(
      splitPoints({ lastValueMs: last, endMs: at(1000), idle: 2, pageSpanMs: 2000, slicePages: 3 }),
    ).toEqual([at(17), at(23), at(29)]);
  });

  it('never cuts parts shorter than the time one page covers', () => {
    // 20 s left, a page covers 8 s: room for two parts, not five.
    expect(
      splitPoints({ lastValueMs: last, endMs: at(31), idle: 4, pageSpanMs: 8000, slicePages: 10 }),
    ).toEqual([at(21)]);
    expect(
      splitPoints({ lastValueMs: last, endMs: at(20), idle: 4, pageSpanMs: 8000, slicePages: 10 }),
    ).toEqual([]);
  });

  it('with minPartPages, never cuts off a rest shorter than that many pages', () => {
    // A page covers 2 s; 32 pages are 64 s. 100 s left: not worth a second slice's partial page.
    const budgeted = { idle: 1, pageSpanMs: 2000, slicePages: 32, minPartPages: 32 };
    expect(splitPoints({ lastValueMs: last, endMs: at(111), ...budgeted })).toEqual([]);
    // 300 s left: the slice keeps 64 s, a helper gets the next 64 s, the rest waits its turn.
    expect(splitPoints({ lastValueMs: last, endMs: at(311), ...budgeted })).toEqual([at(75), at(139)]);
  });
});

async function eventPairs(h: Harness): Promise<string[]> {
  const rows = await queryDestination(h.destination, `SELECT id, datetime FROM ${h.schema}.klaviyo_events`);
  return rows.map((r) => `${r.id}|${r.datetime}`);
}

describe.each(DESTINATION_KINDS)('fetching a window in concurrent slices (%s)', (kind) => {
  const h = useHarness(
    { seed: 21, now: NOW, events: 30_000, profiles: 100, latencyMs: 150 },
    undefined,
    kind,
  );

  const run = (extra: Partial<RunProjectInput>) =>
    h.run({ clock: clockFrom(NOW), sources: ['events'], ...extra });

  it('a small window stays one request', async () => {
    const start = Date.UTC(2025, 9, 1, 0, 0, 0);
    const report = await run({ start: formatTemplateTime(start), end: formatTemplateTime(start + 3600_000) });
    expect(report.ok).toBe(true);
    const events = h.sim.requestLog().filter((r) => r.endpoint === 'events');
    expect(events).toHaveLength(1);
    expect(report.sources[0]?.records).toBe(
      h.sim.count('events', { field: 'datetime', gte: start, lt: start + 3600_000 }),
    );
    await dropSchema(h.destination, h.schema);
  });

  it('a large window is shared between concurrent requests, every record exactly once', async () => {
    h.sim.clearLog();
    // A fixed 8 in flight: the adaptive default follows this process's event loop, which here also
    // runs the simulator (test/workflow/concurrency.test.ts covers it; `npm run bench` measures it).
    const report = await run({ concurrency: 8 });
    expect(report.ok).toBe(true);
    const source = report.sources[0];
    expect(source?.slices).toBeGreaterThan(4);
    const requests = h.sim.requestLog().filter((r) => r.endpoint === 'events');
    expect(Math.max(...requests.map((r) => r.inFlightAtStart))).toBeGreaterThanOrEqual(4);
    const expected = h.sim.count('events', { field: 'datetime', gte: INC_START, lt: NOW });
    // One extra first page per slice at most: sharing does not waste requests.
    expect(requests.length).toBeLessThanOrEqual(Math.ceil(expected / 1000) + (source?.slices ?? 0));
    const pairs = await eventPairs(h);
    expect(pairs.length).toBe(expected);
    expect(new Set(pairs).size).toBe(expected);
  });
});

describe.each(DESTINATION_KINDS)('checkpoints in window order (%s)', (kind) => {
  const h = useHarness({ seed: 8, now: NOW, events: 20_000, profiles: 100, latencyMs: 5 }, undefined, kind);

  const run = () =>
    h.run({ clock: clockFrom(NOW), sources: ['events'], checkpoint: { rows: 500, ms: 60_000 } });

  // Several failure points: which slices are in flight when one fails varies with timing.
  it.each([4, 8, 12])(
    'a load that fails at request %i leaves a complete prefix of the window; the rerun finishes exactly once',
    async (at) => {
      await dropSchema(h.destination, h.schema);
      h.sim.addFault(`html403@events:at=${at}`);
      const failed = await run();
      h.sim.clearFaults();
      expect(failed.ok).toBe(false);
      const committed = await queryDestination(
        h.destination,
        `SELECT count(*) AS n, max(CAST(datetime AS TIMESTAMPTZ)) AS m FROM ${h.schema}.klaviyo_events`,
      );
      const n = Number(committed[0]?.n);
      expect(n).toBeGreaterThan(0);
      const maxSecond = Math.floor(new Date(String(committed[0]?.m)).getTime() / 1000) * 1000;
      // Everything before the committed maximum's second is there: no gaps behind the checkpoint.
      const before = h.sim.count('events', { field: 'datetime', gte: INC_START, lt: maxSecond });
      const [inTable] = await queryDestination(
        h.destination,
        `SELECT count(*) AS n FROM ${h.schema}.klaviyo_events WHERE CAST(datetime AS TIMESTAMPTZ) < to_timestamp(${maxSecond / 1000})`,
      );
      expect(Number(inTable?.n)).toBe(before);
      const log = await queryDestination(
        h.destination,
        `SELECT status FROM ${h.schema}.ingestion_log WHERE status = 'SUCCESS'`,
      );
      expect(log).toHaveLength(0);

      const rerun = await run();
      expect(rerun.ok).toBe(true);
      expect(rerun.sources[0]?.startTime).toBe(formatTemplateTime(maxSecond));
      const expected = h.sim.count('events', { field: 'datetime', gte: INC_START, lt: NOW });
      const pairs = await eventPairs(h);
      expect(pairs.length).toBe(expected);
      expect(new Set(pairs).size).toBe(expected);
    },
  );
});

describe.each(DESTINATION_KINDS)('a page cursor that expires mid-load (%s)', (kind) => {
  const h = useHarness({ seed: 4, now: NOW, events: 8000, profiles: 50, metrics: 450 }, undefined, kind);

  it('restarts the slice from its last record (events) or the stream without rewriting rows (metrics)', async () => {
    h.sim.addFault('expire-cursor@events:at=2');
    h.sim.addFault('expire-cursor@metrics:at=1');
    const report = await h.run({ clock: clockFrom(NOW), sources: ['events', 'metrics'], concurrency: 1 });
    expect(h.sim.requestLog().filter((r) => r.status === 400)).toHaveLength(2);
    expect(report.ok).toBe(true);
    const end = Date.parse(`${String(report.sources[0]?.endTime).slice(0, 19)}Z`);
    const expected = h.sim.count('events', { field: 'datetime', gte: INC_START, lt: end });
    const pairs = await eventPairs(h);
    expect(pairs.length).toBe(expected);
    expect(new Set(pairs).size).toBe(expected);
    const [metrics] = await queryDestination(
      h.destination,
      `SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${h.schema}.klaviyo_metric_data`,
    );
    expect(Number(metrics?.n)).toBe(450);
    expect(Number(metrics?.d)).toBe(450);
  });
});
