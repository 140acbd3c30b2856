/** Test helpers: temp folders, running the CLI in-process with stdout/stderr captured, spec code blocks. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initProject } from '../../src/cli/commands/init.js';
import { main } from '../../src/cli/main.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const specPath = path.resolve(repoRoot, 'docs/spec/klaviyo-ingestion-templates.md');

const made: string[] = [];

export function tempDir(prefix = 'ki-project-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh project written by init, in its own temp parent folder. Returns the project folder. */
export function freshProject(): string {
  const dir = path.join(tempDir(), 'ingestion');
  initProject(dir);
  return dir;
}

export function edit(dir: string, rel: string, change: (text: string) => string): void {
  const file = path.join(dir, rel);
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`edit of ${rel} changed nothing`);
  writeFileSync(file, after);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `klaviyo-ingest <argv>` in this process and capture what it prints. */
export async function runCli(argv: string[]): Promise<CliResult> {
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
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** The `**File**: X ... EXACT TEMPLATE ... ```yaml` code blocks of the spec, by file name. */
export function specBlocks(): Map<string, string> {
  const spec = readFileSync(specPath, 'utf8');
  const blocks = new Map<string, string>();
  const re = /\*\*File\*\*: `([^`]+)`\n\n\*\*EXACT TEMPLATE\*\*:\n```yaml\n([\s\S]*?)```/g;
  for (const m of spec.matchAll(re)) blocks.set(m[1]!, m[2]!);
  return blocks;
}
