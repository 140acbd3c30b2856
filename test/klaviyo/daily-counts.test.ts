import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyCounts, MAX_AGGREGATE_SPAN_MS, yearPieces } from '../../src/klaviyo/daily-counts.js';
import { DEMO_API_KEY, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { testClient } from '../support/klaviyo-client.js';

const DAY = 86_400_000;

describe('yearPieces', () => {
  it('cuts a range into contiguous pieces of at most 365 days, inner ones starting at UTC midnight', () => {
    const from = Date.UTC(2023, 8, 1, 6, 30);
    const to = Date.UTC(2026, 11, 1, 22, 56, 14);
    const pieces = yearPieces(from, to);
    expect(pieces).toHaveLength(4);
    expect(pieces[0]?.fromMs).toBe(from);
    expect(pieces.at(-1)?.toMs).toBe(to);
    for (const [i, piece] of pieces.entries()) {
      expect(piece.toMs - piece.fromMs).toBeLessThanOrEqual(MAX_AGGREGATE_SPAN_MS);
      if (i > 0) {
        expect(piece.fromMs).toBe(pieces[i - 1]?.toMs);
        expect(piece.fromMs % DAY).toBe(0);
      }
    }
  });

  it('a range within a day is one piece', () => {
    expect(yearPieces(Date.UTC(2025, 0, 1, 3), Date.UTC(2025, 0, 1, 4))).toEqual([
      { fromMs: Date.UTC(2025, 0, 1, 3), toMs: Date.UTC(2025, 0, 1, 4) },
    ]);
  });
});

describe('dailyCounts against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    // Events over more than two years: the counts need three metric-aggregates queries.
    sim = await startSimulator({
      seed: 9,
      now: Date.UTC(2026, 2, 1),
      start: Date.UTC(2023, 11, 1),
      events: 4000,
      metrics: 2,
      rateLimits: 'off',
    });
  });
  afterAll(async () => sim?.close());

  it("asks for a long range in year-long pieces and returns the simulator's count per UTC day", async () => {
    const client = testClient(sim.baseUrl, { apiKey: DEMO_API_KEY });
    const metricId = sim.data.metrics.id(0);
    const from = Date.UTC(2023, 11, 15, 12);
    const to = Date.UTC(2026, 1, 20);
    const counts = await dailyCounts(client, metricId, from, to);
    const expected = new Map<number, number>();
    sim.data.ids('events', (get) => {
      const t = get('datetime') as number;
      if (get('metric_id') === metricId && t >= from && t < to) {
        const day = Math.floor(t / DAY) * DAY;
        expected.set(day, (expected.get(day) ?? 0) + 1);
      }
      return false;
    });
    const nonZero = new Map([...counts].filter(([, n]) => n > 0));
    expect(nonZero).toEqual(expected);
    expect(expected.size).toBeGreaterThan(100);
    expect(sim.requestLog().filter((r) => r.endpoint === 'metric-aggregates')).toHaveLength(3);
    await client.close();
  });
});
