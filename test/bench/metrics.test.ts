import { describe, expect, it } from 'vitest';
import { backfillMeasure, benchScale, boundMs, formatTable } from '../../bench/lib/metrics.js';

describe('bench harness arithmetic', () => {
  it('BENCH_SCALE parsing and the table', () => {
    expect(benchScale({})).toBe(1);
    expect(benchScale({ BENCH_SCALE: '0.1' })).toBe(0.1);
    expect(() => benchScale({ BENCH_SCALE: 'x' })).toThrow(/BENCH_SCALE/);
    const table = formatTable([
      {
        scenario: '2 CPU-bound',
        metric: 'events/s',
        ours: 12000,
        baseline: 15000,
        ratio: 0.8,
        target: '>= 0.70',
        pass: true,
        note: 'n',
      },
    ]);
    expect(table).toContain('12,000');
    expect(table).toContain('0.80');
    expect(table).toContain('yes');
    expect(table).toContain('2 CPU-bound events/s: n');
  });
});

describe('backfill bound and measure', () => {
  const limits = { burst: 20, steady: 300 };

  it('bound: the last request waits for its minute and second, then one latency', () => {
    expect(boundMs(1, limits, 200)).toBe(200);
    expect(boundMs(20, limits, 200)).toBe(200);
    expect(boundMs(21, limits, 200)).toBe(1200);
    expect(boundMs(300, limits, 200)).toBe(14_200);
    expect(boundMs(301, limits, 200)).toBe(60_200);
    expect(boundMs(400, limits, 200)).toBe(64_200);
    expect(boundMs(0, limits, 200)).toBe(0);
  });

  it('measures records/s against the bound, requests per full page and 429s of one endpoint', () => {
    const log = [
      { endpoint: 'events', status: 200, startedAt: 0, durationMs: 200 },
      { endpoint: 'events', status: 429, startedAt: 100, durationMs: 5 },
      { endpoint: 'events', status: 200, startedAt: 300, durationMs: 200 },
      { endpoint: 'events', status: 200, startedAt: 3600, durationMs: 400 },
      { endpoint: 'profiles', status: 200, startedAt: 9000, durationMs: 200 },
    ];
    const m = backfillMeasure(log, 'events', 2500, 1000, limits, 200);
    expect(m.fullPages).toBe(3);
    expect(m.requests).toBe(3);
    expect(m.throttled).toBe(1);
    expect(m.elapsedMs).toBe(4000);
    expect(m.recordsPerSecond).toBe(625);
    expect(m.requestsPerPage).toBe(1);
    expect(m.boundMs).toBe(200);
    expect(m.ofBound).toBeCloseTo(0.05);
  });
});
