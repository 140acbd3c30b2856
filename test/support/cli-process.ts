/** The CLI as a child process (`node bin/klaviyo-ingest.js ...`): the real binary, exit code and signal included. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The launcher users run; it loads the built CLI from dist/. */
export const CLI_BIN = path.join(repoRoot, 'bin', 'klaviyo-ingest.js');

/** Environment on top of `process.env`; undefined leaves a variable out. */
export type CliEnv = Readonly<Record<string, string | undefined>>;

export interface CliSpawnOptions {
  env?: CliEnv;
  /** Working folder (default: the repository root). */
  cwd?: string;
}

export interface CliProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to close. */
  ms: number;
}

export interface CliProcess {
  child: ChildProcess;
  startedAt: number;
  /** Resolves once the process closed (stdout and stderr read to the end). */
  done: Promise<CliProcessResult>;
  exited(): boolean;
}

function childEnv(env: CliEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...env, NO_COLOR: '1' };
}

/** Starts `klaviyo-ingest <args>`; stdout and stderr are collected. */
export function spawnCli(args: readonly string[], options: CliSpawnOptions = {}): CliProcess {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let finished = false;
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const done = new Promise<CliProcessResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      finished = true;
      resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt });
    });
  });
  return { child, startedAt, done, exited: () => finished || child.exitCode !== null };
}

/** `klaviyo-ingest <args>` to the end. */
export function runCliProcess(
  args: readonly string[],
  options: CliSpawnOptions = {},
): Promise<CliProcessResult> {
  return spawnCli(args, options).done;
}

/** `klaviyo-ingest <args>` to the end, blocking (killed after `timeoutMs`). */
export function runCliProcessSync(
  args: readonly string[],
  options: CliSpawnOptions & { timeoutMs?: number } = {},
): CliProcessResult {
  const startedAt = Date.now();
  const result = spawnSync(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env),
    encoding: 'utf8',
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
  });
  if (result.error) throw result.error;
  return {
    code: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    ms: Date.now() - startedAt,
  };
}
