import { describe, expect, it } from 'vitest';
import {
  allowedRequests,
  benchScale,
  formatTable,
  servedInPeriod,
  utilisation,
} from '../../bench/lib/metrics.js';

const EVENTS = { burst: 35, steady: 350 };
const PROFILES = { burst: 7, steady: 75 };

describe('bench harness arithmetic', () => {
  it('allowed requests: min(burst x seconds, steady) per minute window the period touches', () => {
    expect(allowedRequests(EVENTS, 5_000)).toBe(175);
    expect(allowedRequests(EVENTS, 30_000)).toBe(350);
    expect(allowedRequests(PROFILES, 30_000)).toBe(75);
    expect(allowedRequests(PROFILES, 5_500)).toBe(42); // a started second counts whole
    expect(allowedRequests(EVENTS, 90_000)).toBe(700);
    expect(allowedRequests(EVENTS, 0)).toBe(0);
  });

  it('counts only 200s that arrived inside the period, per endpoint', () => {
    const log = [
      { endpoint: 'events', status: 200, startedAt: 999 },
      { endpoint: 'events', status: 200, startedAt: 1000 },
      { endpoint: 'events', status: 429, startedAt: 1500 },
      { endpoint: 'profiles', status: 200, startedAt: 5999 },
      { endpoint: 'events', status: 200, startedAt: 6000 },
    ];
    expect(servedInPeriod(log, 1000, 5000)).toEqual({ events: 1, profiles: 1 });
    const u = utilisation(log, 1000, 5000, { events: EVENTS, profiles: PROFILES });
    expect(u.totalAllowed).toBe(175 + 35);
    expect(u.totalServed).toBe(2);
    expect(u.throttled).toBe(1);
    expect(u.requestsPerSecond).toBeCloseTo(0.4);
    expect(u.utilisation).toBeCloseTo(2 / 210);
  });

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
