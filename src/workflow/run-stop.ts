/**
 * Stopping a whole run early: on a signal (the CLI aborts the run's signal with a `StopRequest`), or
 * when one source hits a failure every other source would hit too (a key the API refuses, an API that
 * cannot be reached). Then no source starts, every source in flight stops fetching, rolls back what is
 * staged and keeps what it committed, and the cause is reported once, by the source that met it.
 */
import { IngestError } from '../util/errors.js';

/** The reason the CLI aborts a run with when it is asked to stop (SIGINT, SIGTERM). */
export class StopRequest extends Error {
  constructor(readonly signal: string) {
    super(`stopped by ${signal}`);
    this.name = 'StopRequest';
  }
}

/**
 * Errors that would fail every source the same way: the key is refused (401), or nothing answers at
 * the API's address. A 403 is not among them: it names one endpoint's missing scope, and the sources
 * on other endpoints still load.
 */
const RUN_FATAL_CODES: ReadonlySet<string> = new Set(['KLAVIYO_AUTH', 'KLAVIYO_UNREACHABLE']);

export function isRunFatal(error: unknown): error is IngestError {
  return error instanceof IngestError && RUN_FATAL_CODES.has(error.code);
}

export class RunStop {
  private readonly controller = new AbortController();
  /** The source whose failure stopped the run (it reports the cause; the others say they stopped). */
  private owner: string | null = null;

  constructor(outer: AbortSignal | undefined) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', () => this.controller.abort(outer.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** What stopped the run: `SIGINT`, `KLAVIYO_AUTH`, ...; null while it runs. */
  get stoppedBy(): string | null {
    if (!this.stopped) return null;
    const reason: unknown = this.controller.signal.reason;
    if (reason instanceof StopRequest) return reason.signal;
    if (reason instanceof IngestError) return reason.code;
    return 'aborted';
  }

  /** A source failed: if every other source would fail the same way, stop them all. */
  failed(source: string, error: unknown): void {
    if (this.stopped || !isRunFatal(error)) return;
    this.owner = source;
    this.controller.abort(error);
  }

  /** Whether `source` failed because the run stopped (for another reason than its own failure). */
  stoppedOthers(source: string): boolean {
    return this.stopped && this.owner !== source;
  }

  /** One line for the sources the stop cut short. */
  describe(): string {
    const reason: unknown = this.controller.signal.reason;
    if (reason instanceof StopRequest) return `stopped by ${reason.signal}`;
    if (reason instanceof IngestError) {
      return `stopped: ${this.owner ?? 'another source'} failed with ${reason.code}, which every source would meet`;
    }
    return 'stopped';
  }
}
