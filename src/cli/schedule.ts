/**
 * `run inc --every 1h` / `--cron "0 * * * *"`: when the next run starts. Runs never overlap: the
 * next run is the first tick after the previous run ended, and ticks that passed while it ran are
 * skipped (and counted). Cron expressions are read by croner (5 fields, or 6 with seconds first), in
 * the machine's time zone unless the expression says otherwise.
 */
import { Cron } from 'croner';
import { configError } from '../util/errors.js';

export interface Schedule {
  /** `every 1h` or `cron "0 * * * *"`. */
  readonly description: string;
  /** The first tick strictly after `afterMs`, given the previous run started at `lastStartMs`. */
  next(afterMs: number, lastStartMs: number): number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `1d`, `1h30m` → ms; null when it is not such a duration. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!/^(\d+[smhd])+$/.test(trimmed)) return null;
  let ms = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhd])/g))
    ms += Number(n) * (UNITS[unit as string] ?? 0);
  return ms > 0 ? ms : null;
}

function everySchedule(text: string): Schedule {
  const ms = parseDuration(text);
  if (ms === null) {
    throw configError(`--every must be a duration such as 30s, 15m, 1h, 1d or 1h30m, got '${text}'`, {
      code: 'CLI_FLAG',
      key: '--every',
      fix: 'e.g. --every 1h',
    });
  }
  return {
    description: `every ${text.trim()}`,
    next: (afterMs, lastStartMs) => lastStartMs + (Math.floor((afterMs - lastStartMs) / ms) + 1) * ms,
  };
}

function cronSchedule(expression: string): Schedule {
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true });
  } catch (error) {
    throw configError(
      `--cron "${expression}" is not a cron expression: ${error instanceof Error ? error.message : String(error)}`,
      { code: 'CLI_FLAG', key: '--cron', fix: 'e.g. --cron "0 * * * *" (minute hour day month weekday)' },
    );
  }
  return {
    description: `cron "${expression}"`,
    next: (afterMs) => {
      const next = cron.nextRun(new Date(afterMs));
      if (next === null) {
        throw configError(`--cron "${expression}" has no next time`, { code: 'CLI_FLAG', key: '--cron' });
      }
      return next.getTime();
    },
  };
}

/** The schedule of `--every` / `--cron`, or null for a single run. */
export function scheduleFrom(flags: { every?: string; cron?: string }): Schedule | null {
  if (flags.every !== undefined && flags.cron !== undefined) {
    throw configError('--every and --cron cannot be used together', {
      code: 'CLI_FLAG',
      key: '--every',
      fix: 'choose one: --every 1h, or --cron "0 * * * *"',
    });
  }
  if (flags.every !== undefined) return everySchedule(flags.every);
  if (flags.cron !== undefined) return cronSchedule(flags.cron);
  return null;
}

/** setTimeout's longest wait (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits until `atMs` (epoch) or until `signal` aborts; true when the time came. */
export async function waitUntil(atMs: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false;
    const left = atMs - Date.now();
    if (left <= 0) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(left, MAX_TIMER_MS));
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
