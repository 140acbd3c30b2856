import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { call, scan, small } from './helpers.js';

const DAY = 86_400_000;
const DEC_1 = Date.UTC(2025, 11, 1);

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(async () => sim?.close());

function aggregate(attributes: Record<string, unknown>) {
  return call(
    sim,
    '/api/metric-aggregates',
    {},
    { method: 'POST', body: { data: { type: 'metric-aggregate', attributes } } },
  );
}

const range = (from: string, to: string) => [
  `greater-or-equal(datetime,${from})`,
  `less-than(datetime,${to})`,
];

/** The simulator's own events of a metric with datetime in [from, to). */
function eventsOf(metricId: string, from: number, to: number): number[] {
  const times: number[] = [];
  sim.data.ids('events', (get) => {
    const t = get('datetime') as number;
    if (get('metric_id') === metricId && t >= from && t < to) times.push(t);
    return false;
  });
  return times;
}

describe('POST /api/metric-aggregates', () => {
  test('counts a metric per UTC day, cut exactly to the range, partial days included', async () => {
    const metricId = sim.data.metrics.id(0);
    const from = DEC_1 + 6 * 3_600_000; // 06:00 on the first day
    const to = DEC_1 + 4 * DAY + 18 * 3_600_000; // 18:00 on the fifth
    const reply = await aggregate({
      metric_id: metricId,
      measurements: ['count'],
      interval: 'day',
      timezone: 'UTC',
      filter: range('2025-12-01T06:00:00', '2025-12-05T18:00:00.000000'),
    });
    expect(reply.status, reply.text).toBe(200);
    const { dates, data } = reply.body.data.attributes;
    expect(dates).toEqual([1, 2, 3, 4, 5].map((d) => `2025-12-0${d}T00:00:00+00:00`));
    const perDay = [0, 0, 0, 0, 0];
    for (const t of eventsOf(metricId, from, to)) {
      const day = Math.floor((t - DEC_1) / DAY);
      perDay[day] = (perDay[day] ?? 0) + 1;
    }
    expect(data[0].measurements.count).toEqual(perDay);
    expect(perDay.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  test('cuts days on the calendar of the body timezone', async () => {
    const metricId = sim.data.metrics.id(0);
    const reply = await aggregate({
      metric_id: metricId,
      measurements: ['count'],
      timezone: 'America/New_York',
      filter: range('2025-12-01T05:00:00Z', '2025-12-04T05:00:00Z'),
    });
    expect(reply.status, reply.text).toBe(200);
    // Midnight in New York (UTC-5 in December) is 05:00 UTC.
    expect(reply.body.data.attributes.dates).toEqual([
      '2025-12-01T05:00:00+00:00',
      '2025-12-02T05:00:00+00:00',
      '2025-12-03T05:00:00+00:00',
    ]);
    const perDay = [0, 0, 0];
    const nyMidnight = DEC_1 + 5 * 3_600_000;
    for (const t of eventsOf(metricId, nyMidnight, nyMidnight + 3 * DAY)) {
      const day = Math.floor((t - nyMidnight) / DAY);
      perDay[day] = (perDay[day] ?? 0) + 1;
    }
    expect(reply.body.data.attributes.data[0].measurements.count).toEqual(perDay);
  });

  test.each([
    ['no metric_id', { metric_id: undefined }, '/data/attributes/metric_id'],
    ['no measurements', { measurements: undefined }, '/data/attributes/measurements'],
    ['an unknown measurement', { measurements: ['avg'] }, '/data/attributes/measurements'],
    ['no filter', { filter: undefined }, '/data/attributes/filter'],
    ['no time range', { filter: ['equals(URL,"x")'] }, '/data/attributes/filter'],
    [
      'only a start',
      { filter: ['greater-or-equal(datetime,2025-01-01T00:00:00)'] },
      '/data/attributes/filter',
    ],
    [
      'more than a year',
      { filter: range('2024-01-01T00:00:00', '2025-01-02T00:00:01') },
      '/data/attributes/filter',
    ],
    ['an unknown interval', { interval: 'minute' }, '/data/attributes/interval'],
    ['an unknown timezone', { timezone: 'Mars/Olympus' }, '/data/attributes/timezone'],
    ['a zone the spec excludes', { timezone: 'Europe/Kyiv' }, '/data/attributes/timezone'],
  ])('answers 400 to %s', async (_what, change, pointer) => {
    const body: Record<string, unknown> = {
      metric_id: sim.data.metrics.id(0),
      measurements: ['count'],
      filter: range('2025-12-01T00:00:00', '2025-12-02T00:00:00'),
      ...change,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
    const reply = await aggregate(body);
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.errors[0].source.pointer).toBe(pointer);
  });

  test('a whole year (365 days) is allowed', async () => {
    const reply = await aggregate({
      metric_id: sim.data.metrics.id(0),
      measurements: ['count'],
      filter: range('2025-01-15T00:00:00', '2026-01-15T00:00:00'),
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data.attributes.dates).toHaveLength(365);
  });
});

describe('late listing: events held back from GET /api/events still count', () => {
  test('held-back events leave the list, stay in the counts, and come back when released', async () => {
    const from = DEC_1 + 10 * DAY;
    const to = from + DAY;
    // The metric with the most events that day.
    const metricIds = Array.from({ length: sim.data.metrics.size() }, (_, i) => sim.data.metrics.id(i));
    const [metricId, all] = metricIds
      .map((id) => [id, eventsOf(id, from, to)] as const)
      .reduce((a, b) => (b[1].length > a[1].length ? b : a));
    expect(all.length).toBeGreaterThan(2);
    const filter = `and(equals(metric_id,'${metricId}'),greater-or-equal(datetime,2025-12-11T00:00:00Z),less-than(datetime,2025-12-12T00:00:00Z))`;
    const listed = async () => (await scan(sim, '/api/events', { filter })).records.map((r) => r.id);
    const count = async () => {
      const reply = await aggregate({
        metric_id: metricId,
        measurements: ['count'],
        filter: range('2025-12-11T00:00:00', '2025-12-12T00:00:00'),
      });
      return reply.body.data.attributes.data[0].measurements.count[0];
    };
    const before = await listed();
    expect(before).toHaveLength(all.length);

    const held = sim.holdBackEvents({ from, to, metricId, limit: 2 });
    expect(held).toHaveLength(2);
    const during = await listed();
    expect(during).toHaveLength(all.length - 2);
    expect(during.some((id) => held.includes(id))).toBe(false);
    expect(await count()).toBe(all.length);

    expect(sim.releaseEvents()).toBe(2);
    expect(new Set(await listed())).toEqual(new Set(before));
    expect(await count()).toBe(all.length);
  });
});
