/** The CLI's `main` in this process, with stdout/stderr captured and environment variables set for the call. */
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables to set for the call only; undefined unsets one. */
export type CliEnv = Readonly<Record<string, string | undefined>>;

function setEnv(env: CliEnv): CliEnv {
  const saved: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return saved;
}

export interface StartedCli {
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Its exit code and everything it printed; output is captured until then. */
  done: Promise<CliResult>;
}

/**
 * Starts `klaviyo-ingest <argv>` in this process (for a command that keeps running, like
 * `simulate`), capturing stdout and stderr until it returns.
 */
export function startCli(argv: string[], env: CliEnv = {}): StartedCli {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  const saved = setEnv(env);
  const restore = () => {
    setEnv(saved);
    process.stdout.write = out;
    process.stderr.write = err;
  };
  let code: Promise<number>;
  try {
    code = main(argv);
  } catch (error) {
    restore();
    throw error;
  }
  const done = code.then(
    (exit) => {
      restore();
      return { code: exit, stdout, stderr };
    },
    (error: unknown) => {
      restore();
      throw error;
    },
  );
  return { stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs `klaviyo-ingest <argv>` in this process and returns its exit code and what it printed. */
export function runCli(argv: string[], env: CliEnv = {}): Promise<CliResult> {
  return startCli(argv, env).done;
}
