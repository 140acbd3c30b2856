/**
 * The run-state file: `<database>.run.json` beside a DuckDB file while a run loads it. DuckDB lets one
 * process hold a file, so `status` cannot read the ingestion log during a run; it reads this instead:
 * who runs (pid), what, since when, and each source's progress. Written atomically (a temp file
 * renamed over it) on every start, commit and end of a source and at most every second in between;
 * removed when the run ends. A file whose pid is gone is what a killed run left.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { redact } from '../util/redact.js';
import type { RunEvent } from '../workflow/run-events.js';
import type { RunProgress, SourceProgress } from './progress/run-progress.js';

export const RUN_STATE_VERSION = 1;

export interface RunStateFile {
  version: number;
  pid: number;
  runId: string;
  workflow: string;
  /** ISO times. */
  startedAt: string;
  updatedAt: string;
  sources: SourceProgress[];
  retries: number;
  throttles: number;
}

export function runStatePath(databasePath: string): string {
  return `${databasePath}.run.json`;
}

/** Writes the run-state file as the run's events arrive; `close()` removes it. */
export class RunStateWriter {
  private lastWrite = 0;
  private trailing: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly progress: RunProgress,
    private readonly minIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call after the progress took the event. */
  event(event: RunEvent): void {
    if (this.closed) return;
    if (event.type === 'page' || event.type === 'retry' || event.type === 'throttle') this.soon();
    else this.write();
  }

  close(): void {
    this.closed = true;
    if (this.trailing) clearTimeout(this.trailing);
    rmSync(this.file, { force: true });
    rmSync(this.tempFile(), { force: true });
  }

  private soon(): void {
    const wait = this.lastWrite + this.minIntervalMs - this.now();
    if (wait <= 0) this.write();
    else if (!this.trailing) {
      this.trailing = setTimeout(() => {
        this.trailing = null;
        if (!this.closed) this.write();
      }, wait);
      this.trailing.unref();
    }
  }

  private tempFile(): string {
    return `${this.file}.${process.pid}.tmp`;
  }

  private write(): void {
    this.lastWrite = this.now();
    const snapshot = this.progress.snapshot();
    const state: RunStateFile = {
      version: RUN_STATE_VERSION,
      pid: process.pid,
      runId: snapshot.runId,
      workflow: snapshot.workflow,
      startedAt: new Date(snapshot.startedAt || this.now()).toISOString(),
      updatedAt: new Date(this.now()).toISOString(),
      sources: snapshot.sources,
      retries: snapshot.retries,
      throttles: snapshot.throttles,
    };
    try {
      writeFileSync(this.tempFile(), redact(JSON.stringify(state, null, 2)));
      renameSync(this.tempFile(), this.file);
    } catch {
      // A full disk or a read-only folder must not stop the load; `status` then knows less.
    }
  }
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The run-state file beside a database, or null when there is none (or it cannot be read). */
export function readRunState(databasePath: string): (RunStateFile & { alive: boolean }) | null {
  let text: string;
  try {
    text = readFileSync(runStatePath(databasePath), 'utf8');
  } catch {
    return null;
  }
  try {
    const state = JSON.parse(text) as RunStateFile;
    if (state.version !== RUN_STATE_VERSION || typeof state.pid !== 'number') return null;
    return { ...state, alive: pidAlive(state.pid) };
  } catch {
    return null;
  }
}
