/** Project folders for tests: a fresh `init` project in a temp folder, and edits that must change something. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initProject } from '../../src/cli/commands/init.js';
import { tempDir } from './temp-dirs.js';

/** A fresh project written by init, in its own temp parent folder. Returns the project folder. */
export function freshProject(prefix = 'ki-project-'): string {
  const dir = path.join(tempDir(prefix), 'ingestion');
  initProject(dir);
  return dir;
}

/** Rewrites one project file; throws when `change` leaves it as it was (the edit missed). */
export function edit(dir: string, rel: string, change: (text: string) => string): void {
  const file = path.join(dir, rel);
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`edit of ${rel} changed nothing`);
  writeFileSync(file, after);
}

/** A fresh project whose file `rel` has `from` replaced by `to` (the first one). */
export function editedProject(rel: string, from: string, to: string): string {
  const dir = freshProject();
  edit(dir, rel, (t) => t.replace(from, to));
  return dir;
}
