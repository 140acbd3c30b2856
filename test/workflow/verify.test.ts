import { beforeAll, describe, expect, it } from 'vitest';
import { formatFilterTime, formatTemplateTime, parseTimestamp } from '../../src/util/timestamps.js';
import { verifyProject } from '../../src/workflow/verify.js';
import { clockFrom } from '../support/clocks.js';
import { DESTINATION_KINDS, deleteRows, queryDestination, queryDuckDB } from '../support/destination.js';
import { type Harness, useHarness } from '../support/harness.js';
import { withPostgres } from '../support/postgres.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
/** The days the late events fall on: Oct 16 (whole) and Oct 17 (until the second run's end, 12:00). */
const OCT_16 = Date.UTC(2025, 9, 16);
const OCT_17 = Date.UTC(2025, 9, 17);

/** The simulator's events of a metric in [from, to): listed or held back, as Klaviyo counts them. */
function klaviyoCount(h: Harness, metricId: string, from: number, to: number): number {
  return h.sim.data.ids('events', (get) => {
    const t = get('datetime') as number;
    return get('metric_id') === metricId && t >= from && t < to;
  }).length;
}

/** The metric with the most events in [from, to) among `ids`. */
function busiestMetric(h: Harness, ids: string[], from: number, to: number): string {
  return ids.reduce((a, b) => (klaviyoCount(h, b, from, to) > klaviyoCount(h, a, from, to) ? b : a));
}

async function tableRows(h: Harness): Promise<{ n: number; distinct: number }> {
  const [row] = await queryDestination(
    h.destination,
    `SELECT count(*) AS n, count(DISTINCT id || '|' || datetime) AS distinct_pairs FROM ${h.schema}.klaviyo_events`,
  );
  return { n: Number(row?.n), distinct: Number(row?.distinct_pairs) };
}

describe.each(DESTINATION_KINDS)('verify and verify --repair (%s)', (kind) => {
  const h = useHarness({ seed: 11, now: NOW, events: 2500, profiles: 150, metrics: 4 }, undefined, kind);
  const clock = clockFrom(NOW);
  const verify = (repair = false) =>
    verifyProject({
      projectDir: h.projectDir,
      destination: h.destination,
      env: h.env,
      clock,
      sources: ['klaviyo_events'],
      repair,
    });
  let metricIds: string[] = [];

  beforeAll(async () => {
    const first = await h.run({ clock, sources: ['events'] });
    expect(first.ok).toBe(true);
    metricIds = Array.from({ length: h.sim.data.metrics.size() }, (_, i) => h.sim.data.metrics.id(i));
  });

  it('a clean load verifies clean: every metric on every day matches, one request per metric and year', async () => {
    const report = await verify();
    expect(report.ok).toBe(true);
    const [table] = report.tables;
    expect(table?.status).toBe('checked');
    expect(table?.from).toBe('2025-09-01T00:00:00.000000');
    // Sep 1 .. Oct 15 (the load's end is 12:00 on Oct 15): 45 days, the last one partial.
    expect(table?.days).toBe(45);
    expect(table?.daysMatching).toBe(45);
    expect(table?.differences).toEqual([]);
    expect(table?.metrics).toBe(4);
    expect(table?.aggregateRequests).toBe(4);
  });

  let held: { metricId: string; day: number; to: number; count: number }[] = [];

  it('events Klaviyo counts but does not list yet show up as differing days with the right counts', async () => {
    // Two days of new events; some of them Klaviyo lists late.
    h.sim.advanceTime(2 * DAY);
    h.sim.addRecords({ events: 800 });
    clock.advance(2 * DAY);
    const m16 = busiestMetric(h, metricIds, OCT_16, OCT_16 + DAY);
    const m17 = busiestMetric(
      h,
      metricIds.filter((id) => id !== m16),
      OCT_17,
      NOW + 2 * DAY,
    );
    held = [
      { metricId: m16, day: OCT_16, to: OCT_16 + DAY, count: 5 },
      { metricId: m17, day: OCT_17, to: NOW + 2 * DAY, count: 3 },
    ];
    for (const x of held) {
      expect(
        h.sim.holdBackEvents({ from: x.day, to: x.to, metricId: x.metricId, limit: x.count }),
      ).toHaveLength(x.count);
    }
    const second = await h.run({ clock, sources: ['events'] });
    expect(second.ok).toBe(true);

    const report = await verify();
    expect(report.ok).toBe(false);
    const table = report.tables[0];
    expect(table?.days).toBe(47);
    expect(table?.daysMatching).toBe(45);
    expect(table?.differences).toEqual(
      held.map((x) => {
        const klaviyo = klaviyoCount(h, x.metricId, x.day, x.to);
        return {
          metricId: x.metricId,
          metric: expect.any(String),
          day: new Date(x.day).toISOString().slice(0, 10),
          ours: klaviyo - x.count,
          klaviyo,
        };
      }),
    );
  });

  it('once listed, a plain run inc does not fetch them (they are behind the table max)', async () => {
    expect(h.sim.releaseEvents()).toBe(8);
    const before = await tableRows(h);
    clock.advance(3_600_000);
    h.sim.clearLog();
    const third = await h.run({ clock, sources: ['events'] });
    expect(third.ok).toBe(true);
    expect(third.sources[0]?.records).toBe(0);
    expect((await tableRows(h)).n).toBe(before.n);
    const still = await verify();
    expect(still.ok).toBe(false);
    expect(still.tables[0]?.differences.map((d) => [d.metricId, d.ours, d.klaviyo])).toEqual(
      held.map((x) => {
        const klaviyo = klaviyoCount(h, x.metricId, x.day, x.to);
        return [x.metricId, klaviyo - x.count, klaviyo];
      }),
    );
  });

  it('verify --repair re-reads exactly those days, loads them once, logs it, and the next verify passes', async () => {
    const before = await tableRows(h);
    h.sim.clearLog();
    const report = await verify(true);
    expect(report.ok).toBe(true);
    const table = report.tables[0];
    expect(table?.differences).toEqual([]);
    expect(table?.daysMatching).toBe(table?.days);
    const everyRead = held.reduce((n, x) => n + klaviyoCount(h, x.metricId, x.day, x.to), 0);
    expect(table?.repair).toMatchObject({
      days: 2,
      read: everyRead,
      inserted: 8,
      duplicatesSkipped: everyRead - 8,
    });
    expect(table?.repair?.found).toHaveLength(2);

    // Exactly the two (metric, day) pieces were asked for; Oct 17 up to the end of the checked range.
    const rangeEnd = parseTimestamp(String(table?.to)) as number;
    const pieceEnd = (x: (typeof held)[number]) => (x.day === OCT_17 ? rangeEnd : x.to);
    const filters = h.sim
      .requestLog()
      .filter((r) => r.endpoint === 'events')
      .map((r) => r.query.filter);
    expect(new Set(filters)).toEqual(
      new Set(
        held.map(
          (x) =>
            `and(equals(metric_id,'${x.metricId}'),greater-or-equal(datetime,${formatFilterTime(x.day)}),` +
            `less-than(datetime,${formatFilterTime(pieceEnd(x))}))`,
        ),
      ),
    );

    const after = await tableRows(h);
    expect(after.n).toBe(before.n + 8);
    expect(after.distinct).toBe(after.n);
    const log = await queryDestination(
      h.destination,
      `SELECT status, start_time, end_time, records_processed FROM ${h.schema}.ingestion_log
       WHERE job_id LIKE '%:repair' ORDER BY time, status`,
    );
    expect(log.map((r) => [r.status, r.start_time, r.end_time, Number(r.records_processed)])).toEqual([
      ['SUCCESS', '2025-10-16T00:00:00.000000', formatTemplateTime(rangeEnd), 8],
    ]);

    const next = await verify();
    expect(next.ok).toBe(true);
    expect(next.tables[0]?.daysMatching).toBe(47);
  });

  it('a day whose events Klaviyo counts but still does not list stays reported after --repair', async () => {
    const [x] = held;
    if (!x) throw new Error('no held events');
    // Two events of a repaired day go missing from our table, and Klaviyo does not list them (yet).
    const ids = h.sim.holdBackEvents({ from: x.day, to: x.to, metricId: x.metricId, limit: 2 });
    expect(ids).toHaveLength(2);
    const list = ids.map((id) => `'${id}'`).join(',');
    const remove = `DELETE FROM ${h.schema}.klaviyo_events WHERE id IN (${list})`;
    if (kind === 'duckdb') await queryDuckDB(h.dbPath, remove);
    else if (kind === 'parquet')
      await deleteRows(h.destination, h.schema, 'klaviyo_events', `id IN (${list})`);
    else await withPostgres((client) => client.query(remove));
    const report = await verify(true);
    expect(report.ok).toBe(false);
    const klaviyo = klaviyoCount(h, x.metricId, x.day, x.to);
    expect(report.tables[0]?.repair).toMatchObject({ days: 1, inserted: 0 });
    expect(report.tables[0]?.differences).toEqual([
      expect.objectContaining({ metricId: x.metricId, ours: klaviyo - 2, klaviyo }),
    ]);
  });
});
