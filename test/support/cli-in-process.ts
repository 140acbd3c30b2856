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

/** Runs `klaviyo-ingest <argv>` in this process and returns its exit code and what it printed. */
export async function runCli(argv: string[], env: CliEnv = {}): Promise<CliResult> {
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
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    setEnv(saved);
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
