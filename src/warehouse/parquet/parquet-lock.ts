/**
 * The run lock of a Parquet schema folder: `DIR/<schema>/_lock`, created exclusively, holding the
 * owner's host, pid and a token. One run loads a schema at a time, as with PostgreSQL's advisory lock:
 * the second waits for it, then fails with DESTINATION_LOCKED. A lock left by a killed process (same
 * host, pid gone) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { ingestionError } from '../../util/errors.js';
import { isMissing, LOCK_FILE, unlinkIfPresent } from './parquet-layout.js';

interface LockOwner {
  host: string;
  pid: number;
  token: string;
  since: string;
}

export class SchemaLock {
  private constructor(
    readonly file: string,
    private readonly token: string,
  ) {}

  /** Takes the lock of `schemaFolder`, waiting up to `waitMs` for another run to release it. */
  static async acquire(schemaFolder: string, description: string, waitMs: number): Promise<SchemaLock> {
    await mkdir(schemaFolder, { recursive: true });
    const file = path.join(schemaFolder, LOCK_FILE);
    const token = randomBytes(8).toString('hex');
    const owner: LockOwner = { host: hostname(), pid: process.pid, token, since: new Date().toISOString() };
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const handle = await open(file, 'wx');
        try {
          await handle.writeFile(JSON.stringify(owner));
        } finally {
          await handle.close();
        }
        return new SchemaLock(file, token);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readOwner(file);
      if (holder === 'gone') continue;
      if (holder === null || isDead(holder)) {
        // A killed run's lock (or a half-written one from a crash): take it over.
        await unlinkIfPresent(file);
        continue;
      }
      if (Date.now() >= deadline) {
        throw ingestionError(
          `${description} is being loaded by another klaviyo-ingest run (pid ${holder.pid} on ${holder.host}, since ${holder.since}; waited ${(waitMs / 1000).toFixed(waitMs < 1000 ? 1 : 0)} s for its lock ${file})`,
          {
            code: 'DESTINATION_LOCKED',
            fix: 'wait for the other run to finish, then run again; runs on other schemas are not blocked',
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Releases the lock if this still holds it. */
  async release(): Promise<void> {
    const holder = await readOwner(this.file);
    if (holder !== null && holder !== 'gone' && holder.token === this.token) await unlinkIfPresent(this.file);
  }
}

/** Whether another live process holds `schemaFolder`'s lock (a run loading it now). */
export async function heldByAnotherRun(schemaFolder: string): Promise<boolean> {
  const holder = await readOwner(path.join(schemaFolder, LOCK_FILE));
  if (holder === null || holder === 'gone') return false;
  if (holder.host === hostname() && holder.pid === process.pid) return false;
  return !isDead(holder);
}

async function readOwner(file: string): Promise<LockOwner | null | 'gone'> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' ? owner : null;
  } catch (error) {
    if (isMissing(error)) return 'gone';
    // Being written right now, or garbage: give a writer a moment before calling it stale.
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      return JSON.parse(await readFile(file, 'utf8')) as LockOwner;
    } catch (again) {
      return isMissing(again) ? 'gone' : null;
    }
  }
}

function isDead(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false; // another machine's run: never taken over
  if (owner.pid === process.pid) return false; // another destination of this process holds it
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
