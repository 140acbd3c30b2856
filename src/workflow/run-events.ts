/**
 * What a run reports about itself while it runs, for progress displays, log shippers and the run-state
 * file `status` reads (all in cli/). One event per thing that happened; the numbers are totals so far,
 * so a consumer can drop events (render every few seconds) and lose nothing. Messages are redacted.
 */

interface SourceRef {
  /** The datasource's name (`events`). */
  source: string;
  /** Its table (`klaviyo_events`). */
  table: string;
}

export type RunEvent =
  | { type: 'run-start'; at: number; runId: string; workflow: string; sources: SourceRef[] }
  | (SourceRef & {
      type: 'start';
      at: number;
      /** The window in the templates' format; '' for a full load. */
      windowStart: string;
      windowEnd: string;
    })
  | (SourceRef & {
      type: 'page';
      at: number;
      /** Rows read in the window so far (before duplicates are dropped). */
      rows: number;
      pages: number;
      /** How far through its window the source has read, 0..1; null when it cannot tell (unsorted, full loads). */
      windowDone: number | null;
    })
  | (SourceRef & {
      type: 'commit';
      at: number;
      /** Rows this commit added, and the load's total committed so far. */
      inserted: number;
      committed: number;
    })
  | { type: 'retry'; at: number; endpoint: string; attempt: number; delayMs: number; reason: string }
  | { type: 'throttle'; at: number; endpoint: string; delayMs: number; reason: string }
  | (SourceRef & {
      type: 'success';
      at: number;
      records: number;
      duplicatesSkipped: number;
      pages: number;
      durationMs: number;
    })
  | (SourceRef & {
      type: 'error';
      at: number;
      message: string;
      /** Rows of this load committed before it failed (checkpoints); they stay. */
      committed: number;
      durationMs: number;
    })
  | {
      type: 'run-end';
      at: number;
      ok: boolean;
      durationMs: number;
      /** Why the run stopped early (a signal, a key the API refuses), or null. */
      stoppedBy: string | null;
    };

export type RunEventSink = (event: RunEvent) => void;

/** An event as the runner reports it: the emitter stamps `at`. */
export type RunEventInput = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;

export interface RunEmitter {
  /** Whether anyone listens: only then are events built (and the clock read for them). */
  readonly on: boolean;
  emit(event: RunEventInput): void;
}

/**
 * Stamps events with the clock's time and hands them to the sink, never letting a display's failure
 * break the load. Without a sink nothing is built or stamped: test clocks that move on every read
 * see the same reads as before events existed.
 */
export function emitter(sink: RunEventSink | undefined, now: () => number): RunEmitter {
  if (!sink) return { on: false, emit: () => undefined };
  return {
    on: true,
    emit: (event) => {
      try {
        sink({ ...event, at: now() } as RunEvent);
      } catch {
        // Observability must never break ingestion.
      }
    },
  };
}
