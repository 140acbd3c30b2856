/**
 * The runtime settings the CLI runs ingestions with, and the relaunch that applies them.
 *
 * glibc malloc: glibc raises its mmap threshold to the size of any large block it frees. DuckDB's
 * checkpoints free 10-13 MB blocks (FSST compression analysis) and V8 a 4 MB string table, so early in
 * a run the threshold becomes ~10 MB and its trim threshold twice that. From then on blocks up to
 * 10 MB come from the heaps of each thread's arena, and each arena keeps up to ~20 MB of freed space
 * resident: RSS grows with the length of the run. Fixed thresholds keep large blocks in their own
 * mappings, given back on free. Measured on uncached events (peak / median RSS): 2,000,000 events,
 * one run each, 342 / 248 MB -> 264 / 204 MB with the threshold merely fixed at glibc's default
 * (128 KB); in the full bench at 5,000,000 events with the values below, median 283 -> 212 MB and
 * p95 314 -> 255 MB, at the same rows/s.
 *
 * V8 heap growth: by default V8 lets the old generation grow up to 4x what survived the last full
 * collection before the next one. Pages waiting for the sink survive young collections, so the
 * garbage they leave behind piles up in the old generation between full collections; with the
 * growth fixed at 1.5x it is collected sooner. 5,000,000 uncached events, malloc settings on both:
 * peak RSS 294 -> 269 MB at the same rows/s and CPU (`--optimize-for-size`, for comparison: 233 MB
 * at 30% fewer rows/s and twice the CPU).
 *
 * glibc reads its settings once, when a process starts, and V8 flags are not all allowed in
 * NODE_OPTIONS, so `run` and `demo` start the CLI again as a child with them. The launcher only
 * waits: it passes signals on and ends as the child ended, and the child kills itself if the
 * launcher dies first (a SIGKILL to the launcher stops the ingestion too). Nothing happens on other C
 * libraries (musl, macOS, Windows), when the user set any MALLOC_* or GLIBC_TUNABLES variable, or
 * with KLAVIYO_INGEST_RUNTIME_TUNING=off.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';

export const GLIBC_MALLOC_TUNING: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** Node flags of the ingestion child (before the user's own, which win). */
export const V8_HEAP_FLAGS: readonly string[] = ['--heap-growing-percent=50'];

/** `off` disables the relaunch; the launcher sets it to `applied` for its child. */
export const RUNTIME_TUNING_VARIABLE = 'KLAVIYO_INGEST_RUNTIME_TUNING';

/** The commands that ingest; the others are short and leave memory alone. */
const INGESTING_COMMANDS = new Set(['run', 'demo']);

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether this Node runs on glibc (the settings mean nothing to musl or other systems). */
export function isGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return Boolean(report.header?.glibcVersionRuntime);
}

/** What is wrong with KLAVIYO_INGEST_RUNTIME_TUNING (only unset, `off` and the child's `applied` mean something), or null. */
export function runtimeTuningProblem(env: NodeJS.ProcessEnv): string | null {
  const value = env[RUNTIME_TUNING_VARIABLE];
  if (value === undefined || value === 'off' || value === 'applied') return null;
  return `${RUNTIME_TUNING_VARIABLE} is ${JSON.stringify(value)}, which means nothing here. Fix: unset it (the default settings) or set it to off (no child process, no settings).`;
}

/** Whether the CLI, called with these arguments, should start again with the settings. */
export function wantsTunedRelaunch(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (!INGESTING_COMMANDS.has(args[0] ?? '')) return false;
  if (env[RUNTIME_TUNING_VARIABLE] !== undefined) return false; // `off`, or already the child
  if (Object.keys(env).some((name) => name.startsWith('MALLOC_') || name === 'GLIBC_TUNABLES')) return false;
  return isGlibc();
}

/**
 * Runs this CLI again as a child with the settings and ends this process as the child ends (same
 * exit code, or the same signal). Resolves to false, with nothing run, if the child cannot start:
 * the caller then goes on in this process.
 */
export function relaunchTuned(): Promise<false> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...V8_HEAP_FLAGS, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...GLIBC_MALLOC_TUNING, [RUNTIME_TUNING_VARIABLE]: 'applied' },
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.once('error', () => {
      stopForwarding();
      resolve(false);
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      if (signal === null) process.exit(code ?? 1);
      // End by the same signal; should Node ignore it here (SIGPIPE), exit the way a shell reports it.
      process.exitCode = 128 + (os.constants.signals[signal] ?? 0);
      process.kill(process.pid, signal);
    });
  });
}

/** In the relaunched child: die with the launcher, and let the IPC channel not keep this process alive. */
export function exitWithLauncher(env: NodeJS.ProcessEnv = process.env): void {
  if (env[RUNTIME_TUNING_VARIABLE] !== 'applied' || !process.send) return;
  const die = () => process.kill(process.pid, 'SIGKILL');
  // The launcher may have died while this process started, before anyone listened.
  if (!process.connected) die();
  process.once('disconnect', die);
  process.channel?.unref();
}
