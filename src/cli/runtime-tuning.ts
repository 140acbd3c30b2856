/**
 * The runtime settings the CLI runs ingestions with, and the relaunch that applies them: glibc's
 * malloc thresholds fixed (DuckDB's checkpoints free 10-13 MB blocks that would raise them, and RSS
 * would grow with the run) and V8's old generation collected at 1.5x growth. glibc reads its settings
 * only at start, so `run` and `demo` start the CLI again as a child; the launcher passes signals on and
 * ends as the child ended, and the child kills itself if the launcher dies first. Nothing happens off
 * glibc, when the user set any MALLOC_* or GLIBC_TUNABLES, or with KLAVIYO_INGEST_RUNTIME_TUNING=off.
 * Measurements: docs/MEMORY.md.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';

/**
 * Fixed at 256 KB rather than glibc's sliding threshold, and above the 64 KB socket reads: at 64 KB
 * every read buffer was a fresh mapping, page-faulted in and unmapped again, and that system time
 * cost more CPU than the parsing (docs/MEMORY.md). Two arenas hold the freed space of all threads.
 */
export const GLIBC_MALLOC_TUNING: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '262144',
  MALLOC_TRIM_THRESHOLD_: '1048576',
  MALLOC_ARENA_MAX: '2',
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
