/**
 * How `run` shows a run while it runs, on stderr (stdout keeps the report):
 * - `tty`: one live line per source in flight, redrawn in place (log-update), finished sources and
 *   messages kept above them;
 * - `plain` (cron, CI, a pipe): a line per source in flight every few seconds, one when it ends, and
 *   one per retry that waits 2 s or more;
 * - `json`: one JSON object per line per event, for log shippers;
 * - `quiet`: nothing but warnings.
 * Everything written goes through redact(): no key or password reaches the output.
 */
import { createLogUpdate } from 'log-update';
import { redact } from '../../util/redact.js';
import type { RunEvent } from '../../workflow/run-events.js';
import { describeOutcome, describeSource, RunProgress, type SourceProgress } from './run-progress.js';

export type DisplayMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface RunDisplay {
  /** The run's state, as drawn. */
  readonly progress: RunProgress;
  event(event: RunEvent): void;
  /** A message line (a source starting, a --verbose request line). */
  info(line: string): void;
  warn(line: string): void;
  /** Stops redrawing and leaves the terminal clean (the summary table follows on stdout). */
  close(): void;
}

export interface DisplayOptions {
  stream?: NodeJS.WriteStream;
  /** Plain mode: how often the lines of the sources in flight are printed. */
  intervalMs: number;
  now?: () => number;
}

export function createDisplay(mode: DisplayMode, options: DisplayOptions): RunDisplay {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const write = (text: string) => stream.write(`${redact(text)}\n`);
  switch (mode) {
    case 'tty':
      return ttyDisplay(stream, now);
    case 'plain':
      return plainDisplay(write, options.intervalMs, now);
    case 'json':
      return jsonDisplay(write);
    case 'quiet':
      return {
        progress: new RunProgress(),
        event(event) {
          this.progress.apply(event);
        },
        info: () => undefined,
        warn: (line) => write(`warning: ${line}`),
        close: () => undefined,
      };
  }
}

function finished(changed: SourceProgress | null): changed is SourceProgress {
  return changed !== null && (changed.phase === 'done' || changed.phase === 'failed');
}

/** Redrawn at most this often; also the pace at which speeds and ETAs move while nothing arrives. */
const TTY_REDRAW_MS = 250;

function ttyDisplay(stream: NodeJS.WriteStream, now: () => number): RunDisplay {
  const progress = new RunProgress();
  const log = createLogUpdate(stream, { showCursor: true });
  let dirty = false;
  const frame = () => {
    const flying = progress.inFlight();
    const all = progress.sources();
    const ended = all.filter((s) => s.phase === 'done' || s.phase === 'failed').length;
    const head =
      `${progress.workflow || 'run'}: ${ended} of ${all.length} sources done` +
      (progress.retries > 0 ? `, ${progress.retries} retries` : '') +
      (progress.throttles > 0 ? ` (${progress.throttles} throttled)` : '');
    return redact([head, ...flying.map((s) => `  ${describeSource(s, now())}`)].join('\n'));
  };
  const draw = () => {
    dirty = false;
    log(frame());
  };
  const timer = setInterval(draw, TTY_REDRAW_MS);
  timer.unref();
  const persist = (line: string) => {
    log.persist(`${redact(line)}\n`);
    dirty = true;
  };
  return {
    progress,
    event(event) {
      const changed = progress.apply(event);
      if (finished(changed)) persist(describeOutcome(changed, now()));
      else dirty = true;
      if (dirty && event.type !== 'page') draw();
    },
    info: persist,
    warn: (line) => persist(`warning: ${line}`),
    close() {
      clearInterval(timer);
      log.clear();
      log.done();
    },
  };
}

function plainDisplay(write: (text: string) => void, intervalMs: number, now: () => number): RunDisplay {
  const progress = new RunProgress();
  const timer = setInterval(() => {
    for (const s of progress.inFlight()) write(`progress ${describeSource(s, now())}`);
  }, intervalMs);
  timer.unref();
  return {
    progress,
    event(event) {
      const changed = progress.apply(event);
      if (finished(changed)) write(describeOutcome(changed, now()));
      // A long wait for a retry is worth a line in a log (no silent minutes); quick ones, throttling
      // (429, routine) and the few fast attempts at an unreachable API are only counted.
      if (event.type === 'retry' && event.delayMs >= LOGGED_RETRY_MS && !/^429/.test(event.reason)) {
        write(
          `retry ${event.endpoint} (attempt ${event.attempt}) in ${(event.delayMs / 1000).toFixed(1)} s: ${event.reason}`,
        );
      }
    },
    info: write,
    warn: (line) => write(`warning: ${line}`),
    close: () => clearInterval(timer),
  };
}

/** Retries that wait at least this long get a line in plain mode. */
const LOGGED_RETRY_MS = 2000;

const LEVELS: Partial<Record<RunEvent['type'], 'warn' | 'error'>> = {
  retry: 'warn',
  throttle: 'warn',
  error: 'error',
};

/** `{"time":"…","level":"info","event":"page","source":"events",…}`: `type` becomes `event`. */
function jsonDisplay(write: (text: string) => void): RunDisplay {
  const progress = new RunProgress();
  const line = (fields: Record<string, unknown>) => write(JSON.stringify(fields));
  return {
    progress,
    event(event) {
      progress.apply(event);
      const { type, at, ...rest } = event;
      line({
        time: new Date(at).toISOString(),
        level: LEVELS[type] ?? 'info',
        event: type,
        ...(type === 'run-start' ? {} : { run: progress.runId }),
        ...rest,
      });
    },
    info: (message) => line({ time: new Date().toISOString(), level: 'info', event: 'log', message }),
    warn: (message) => line({ time: new Date().toISOString(), level: 'warn', event: 'warning', message }),
    close: () => undefined,
  };
}
