import { describe, expect, it } from 'vitest';
import { parseDuration, scheduleFrom, waitUntil } from '../../src/cli/schedule.js';
import type { IngestError } from '../../src/util/errors.js';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

describe('schedules', () => {
  it('reads durations as ms', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    for (const bad of ['', '1', 'h', '1.5h', '0s', '-1h', '1 h', 'soon'])
      expect(parseDuration(bad)).toBeNull();
  });

  it('--every: the next tick after the run ended, on the grid of the previous start (overrun ticks skipped)', () => {
    const every = scheduleFrom({ every: '1h' });
    expect(every?.description).toBe('every 1h');
    // A run of 10 minutes: the next one an hour after the previous one started.
    expect(every?.next(T0 + 600_000, T0)).toBe(T0 + 3_600_000);
    // A run of 2.5 hours: the ticks at +1h and +2h passed while it ran; the next is at +3h.
    expect(every?.next(T0 + 9_000_000, T0)).toBe(T0 + 10_800_000);
    // Exactly on a tick: the one after it.
    expect(every?.next(T0 + 3_600_000, T0)).toBe(T0 + 7_200_000);
  });

  it('--cron: the next time the expression names, after the run ended', () => {
    const cron = scheduleFrom({ cron: '*/15 * * * * *' }); // every 15 s (seconds field first)
    expect(cron?.description).toBe('cron "*/15 * * * * *"');
    expect(cron?.next(T0 + 1_000, T0)).toBe(T0 + 15_000);
    expect(cron?.next(T0 + 44_000, T0)).toBe(T0 + 45_000);
  });

  it('neither flag: no schedule; a bad value: a usage error naming the flag', () => {
    expect(scheduleFrom({})).toBeNull();
    const bad = (flags: { every?: string; cron?: string }) => {
      try {
        scheduleFrom(flags);
      } catch (error) {
        return error as IngestError;
      }
      throw new Error('no error');
    };
    expect(bad({ every: '1 hour' })).toMatchObject({ code: 'CLI_FLAG', key: '--every', exitCode: 2 });
    expect(bad({ cron: 'every hour' })).toMatchObject({ code: 'CLI_FLAG', key: '--cron', exitCode: 2 });
    expect(bad({ every: '1h', cron: '0 * * * *' })).toMatchObject({ code: 'CLI_FLAG', exitCode: 2 });
  });

  it('waiting ends at the time, or at once when stopped', async () => {
    const stop = new AbortController();
    expect(await waitUntil(Date.now() + 20, stop.signal)).toBe(true);
    const waiting = waitUntil(Date.now() + 60_000, stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
  });
});
