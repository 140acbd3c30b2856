/** Temp folders for tests: made under the OS temp folder, removed together after the file's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A new empty folder; `cleanupTempDirs` (usually `afterAll(cleanupTempDirs)`) removes it. */
export function tempDir(prefix = 'ki-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes one folder made by `tempDir` now. */
export function removeTempDir(dir: string): void {
  const i = made.indexOf(dir);
  if (i >= 0) made.splice(i, 1);
  rmSync(dir, { recursive: true, force: true });
}

/** Removes every folder `tempDir` made (in this test file's process) and not removed yet. */
export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
