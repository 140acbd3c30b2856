import path from 'node:path';
import type { Command } from 'commander';
import { configError, errorMessage, IngestError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { destinationUrlFrom, parseDestinationUrl } from '../../warehouse/open-destination.js';
import { DEFAULT_CHECKPOINT } from '../../workflow/load-source.js';
import { type RunProjectInput, runProject } from '../../workflow/run-project.js';
import type { RunReport } from '../../workflow/types.js';
import { setExitCode } from '../exit-code.js';
import { DESTINATION_OPTION_HELP, wholeNumberFlag } from '../flags.js';
import { createDisplay, type DisplayMode } from '../progress/displays.js';
import { renderRunReport, renderStopSummary } from '../render-report.js';
import { RunStateWriter, runStatePath } from '../run-state.js';
import { type Schedule, scheduleFrom, waitUntil } from '../schedule.js';
import { listenForStop, type StopListener, signalExitCode } from '../stop-signals.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface RunFlags {
  project?: string;
  destination?: string;
  sources?: string;
  start?: string;
  end?: string;
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  logFormat: string;
  every?: string;
  cron?: string;
  checkpointRows?: string;
  checkpointSeconds?: string;
  concurrency?: string;
}

/** Seconds between the plain progress lines (not a terminal); tests set it short. */
export const PROGRESS_INTERVAL_VARIABLE = 'KLAVIYO_INGEST_PROGRESS_INTERVAL';
const DEFAULT_PROGRESS_INTERVAL_MS = 5000;

const positive = (flag: string, value: string | undefined) =>
  wholeNumberFlag(flag, value, { min: 1, example: '10000' });

/** `run x.dig` runs a workflow file of its own folder; `run inc|hist` one of --project's. */
function projectAndWorkflow(workflow: string, flags: RunFlags): { projectDir: string; workflow: string } {
  if (workflow.endsWith('.dig') && flags.project === undefined) {
    return { projectDir: path.dirname(workflow), workflow: path.basename(workflow) };
  }
  return { projectDir: flags.project ?? DEFAULT_PROJECT_DIR, workflow };
}

function displayMode(flags: RunFlags, stderr: NodeJS.WriteStream): DisplayMode {
  if (flags.logFormat !== 'text' && flags.logFormat !== 'json') {
    throw configError(`--log-format must be text or json, got '${flags.logFormat}'`, {
      code: 'CLI_FLAG',
      key: '--log-format',
      fix: 'use --log-format json for one JSON object per line (log shippers), or leave it out',
    });
  }
  if (flags.quiet && (flags.verbose || flags.logFormat === 'json')) {
    throw configError('--quiet cannot be combined with --verbose or --log-format json', {
      code: 'CLI_FLAG',
      key: '--quiet',
      fix: 'choose one: --quiet prints only warnings, failures and the exit code',
    });
  }
  if (flags.logFormat === 'json') return 'json';
  if (flags.quiet) return 'quiet';
  return stderr.isTTY ? 'tty' : 'plain';
}

function progressIntervalMs(env: NodeJS.ProcessEnv): number {
  const text = env[PROGRESS_INTERVAL_VARIABLE];
  if (text === undefined || text === '') return DEFAULT_PROGRESS_INTERVAL_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw configError(`${PROGRESS_INTERVAL_VARIABLE} must be a number of seconds above 0, got '${text}'`, {
      code: 'CLI_FLAG',
      key: PROGRESS_INTERVAL_VARIABLE,
      fix: `e.g. ${PROGRESS_INTERVAL_VARIABLE}=10, or unset it (every 5 s)`,
    });
  }
  return Math.round(seconds * 1000);
}

/** The DuckDB file whose run-state file this run keeps, or null (PostgreSQL, in-memory). */
function duckdbFile(destination: string | undefined): string | null {
  const location = parseDestinationUrl(destinationUrlFrom(destination, process.env));
  return location.kind === 'duckdb' && location.path !== ':memory:' ? location.path : null;
}

interface RunContext {
  input: RunProjectInput;
  flags: RunFlags;
  mode: DisplayMode;
  intervalMs: number;
  stop: StopListener;
}

/** One run with its display and run-state file; prints the report; returns it. */
async function runOnce(ctx: RunContext): Promise<RunReport> {
  const { flags, mode } = ctx;
  const display = createDisplay(mode, { intervalMs: ctx.intervalMs });
  const dbFile = flags.dryRun ? null : duckdbFile(flags.destination);
  const state = dbFile === null ? null : new RunStateWriter(runStatePath(dbFile), display.progress);
  let report: RunReport;
  try {
    report = await runProject({
      ...ctx.input,
      signal: ctx.stop.signal,
      events: (event) => {
        display.event(event);
        state?.event(event);
      },
      ...(mode === 'json' && !flags.verbose ? {} : { progress: (line: string) => display.info(line) }),
      warn: (line) => display.warn(line),
    });
  } finally {
    display.close();
    state?.close();
  }
  if (flags.json) process.stdout.write(`${redact(JSON.stringify(report, null, 2))}\n`);
  else if (mode !== 'json' && !(mode === 'quiet' && report.ok)) {
    process.stdout.write(`${redact(renderRunReport(report))}\n`);
  }
  return report;
}

/** The exit code a finished run asks for: 128 + signal when a signal stopped it, 1 when a source failed. */
function exitCodeOf(report: RunReport, stop: StopListener): number {
  const signal = stop.received();
  if (signal !== null && report.stoppedBy === signal) {
    process.stderr.write(`${redact(renderStopSummary(report, signal))}\n`);
    return signalExitCode(signal);
  }
  return report.ok ? 0 : 1;
}

/**
 * Runs on the schedule until SIGINT/SIGTERM: between runs that ends the process at once (exit 0);
 * during a run the run stops cleanly first (exit 130/143). A run's failure is reported and the next
 * tick runs again; a bad project at the first run ends the process (exit 2) before any waiting.
 */
async function runOnSchedule(ctx: RunContext, schedule: Schedule): Promise<number> {
  const say = (line: string) =>
    ctx.mode === 'json'
      ? process.stderr.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'schedule', message: line })}\n`,
        )
      : ctx.mode === 'quiet'
        ? true
        : process.stderr.write(`${line}\n`);
  say(`schedule: ${schedule.description}; first run now (Ctrl-C or SIGTERM stops it)`);
  for (let runs = 0; ; runs++) {
    const startedAt = Date.now();
    let report: RunReport | null = null;
    try {
      report = await runOnce(ctx);
    } catch (error) {
      if (runs === 0 || !(error instanceof IngestError)) throw error;
      process.stderr.write(`klaviyo-ingest: ${redact(errorMessage(error))}\n`);
    }
    if (report && ctx.stop.received() !== null) return exitCodeOf(report, ctx.stop);
    // Ticks that came while the run ran are skipped: runs never overlap.
    const ended = Date.now();
    let next = schedule.next(startedAt, startedAt);
    let skipped = 0;
    for (; next <= ended && skipped < 10_000; skipped++) next = schedule.next(next, startedAt);
    say(
      `schedule: ${report?.ok ? 'run ok' : 'run failed'}; next run at ${new Date(next).toISOString()}` +
        (skipped > 0 ? ` (${skipped} tick${skipped === 1 ? '' : 's'} skipped while the run ran)` : ''),
    );
    if (!(await waitUntil(next, ctx.stop.signal))) {
      say(`schedule: stopped by ${ctx.stop.received()} between runs; nothing was in flight`);
      return 0;
    }
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a workflow of the project (inc, hist, or a .dig file) into the destination')
    .argument('<workflow>', 'inc | hist | path/to/workflow.dig')
    .option('--project <dir>', `project folder (default ${DEFAULT_PROJECT_DIR}, or the .dig file's folder)`)
    .option('--destination <url>', DESTINATION_OPTION_HELP)
    .option('--sources <names>', 'only these datasources (comma separated names or table names)')
    .option('--start <time>', 'override the window start, e.g. 2025-09-01T00:00:00.000000')
    .option('--end <time>', 'override the window end')
    .option('--dry-run', "print each source's window and first request; write nothing", false)
    .option('--json', 'print the run report as JSON', false)
    .option('--checkpoint-rows <n>', 'commit appends in window order at least every N rows (default 50000)')
    .option('--checkpoint-seconds <s>', '... or at least every S seconds (default 30)')
    .option('--concurrency <n>', 'requests in flight per source (default by the endpoint rate tier)')
    .option(
      '--log-format <format>',
      'text (a live line per source on a terminal, a line every few seconds otherwise) or json (one JSON object per event on stderr)',
      'text',
    )
    .option('--quiet', 'no progress and no report unless something failed', false)
    .option('--every <duration>', 'keep running: a run every 30s, 15m, 1h, 1d ... (runs never overlap)')
    .option('--cron <expression>', 'keep running: a run at each time of a cron expression, e.g. "0 * * * *"')
    .option(
      '--verbose',
      'print every request, retry and throttle to stderr (the API key is never shown)',
      false,
    )
    .action(async (workflow: string, flags: RunFlags) => {
      const checkpointRows = positive('--checkpoint-rows', flags.checkpointRows);
      const checkpointSeconds = positive('--checkpoint-seconds', flags.checkpointSeconds);
      const concurrency = positive('--concurrency', flags.concurrency);
      const mode = displayMode(flags, process.stderr);
      const intervalMs = progressIntervalMs(process.env);
      const schedule = scheduleFrom(flags);
      if (schedule && (flags.start !== undefined || flags.end !== undefined || flags.dryRun)) {
        throw configError('--every / --cron cannot be combined with --start, --end or --dry-run', {
          code: 'CLI_FLAG',
          key: flags.every === undefined ? '--cron' : '--every',
          fix: 'a schedule runs the workflow with its own window each time; try the window once without a schedule',
        });
      }
      const input: RunProjectInput = {
        ...(checkpointRows || checkpointSeconds
          ? {
              checkpoint: {
                rows: checkpointRows ?? DEFAULT_CHECKPOINT.rows,
                ms: checkpointSeconds === undefined ? DEFAULT_CHECKPOINT.ms : checkpointSeconds * 1000,
              },
            }
          : {}),
        ...(concurrency ? { concurrency } : {}),
        ...projectAndWorkflow(workflow, flags),
        destination: flags.destination,
        ...(flags.sources
          ? {
              sources: flags.sources
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(flags.start !== undefined ? { start: flags.start } : {}),
        ...(flags.end !== undefined ? { end: flags.end } : {}),
        dryRun: flags.dryRun,
        verbose: flags.verbose,
      };
      const stop = listenForStop((signal) => {
        if (mode === 'json') {
          process.stderr.write(
            `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', event: 'stop', signal })}\n`,
          );
        } else {
          process.stderr.write(
            `\n${signal}: stopping: no new requests, the commit in flight finishes, staged rows are rolled back\n`,
          );
        }
      });
      const ctx: RunContext = { input, flags, mode, intervalMs, stop };
      try {
        if (schedule) setExitCode(await runOnSchedule(ctx, schedule));
        else setExitCode(exitCodeOf(await runOnce(ctx), stop));
      } finally {
        stop.dispose();
      }
    });
}
