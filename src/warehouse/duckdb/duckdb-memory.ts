/**
 * DuckDB's memory cap for one database instance (its buffer pool: staged rows, commit joins, sorts).
 * Low, so staging spills to `<database>.tmp/` and RSS stays flat over any window. A commit that does not
 * fit (a whole large window's dedupe) is rolled back and run again with the cap doubled, for that
 * commit only, up to 80% of RAM or of the container's limit; a cap the user set
 * (`KLAVIYO_INGEST_DUCKDB_MEMORY_LIMIT`) is never raised. Measurements: docs/MEMORY.md.
 */
import { totalmem } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';
import { configError, type IngestError, ingestionError } from '../../util/errors.js';
import { Mutex } from '../../util/mutex.js';

export const MEMORY_LIMIT_ENV = 'KLAVIYO_INGEST_DUCKDB_MEMORY_LIMIT';

/** The cap while staging, and the first one a commit tries (32 MB ran out while staging). */
export const DEFAULT_MEMORY_LIMIT_BYTES = 64_000_000;

export interface MemoryPolicy {
  /** The cap while nothing needs more, in bytes. */
  baseBytes: number;
  /** How far a commit that runs out of memory may raise it (equal to base: never). */
  maxBytes: number;
  /** Where the cap came from, for error messages. */
  source: 'default' | 'env';
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes of a size as DuckDB's `memory_limit` reads it (`512MB`, `1.5GB`, `64MiB`), or null. */
export function parseMemorySize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return null;
  const unit = UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes > 0 ? bytes : null;
}

/** The policy from the environment: a set limit is fixed; otherwise the default base, raisable. */
export function memoryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): MemoryPolicy {
  const text = env[MEMORY_LIMIT_ENV]?.trim();
  if (!text) {
    // A container's memory limit, when there is one, counts rather than the host's RAM.
    const constrained = process.constrainedMemory?.() ?? 0;
    const available = constrained > 0 ? Math.min(totalmem(), constrained) : totalmem();
    const ceiling = Math.floor(available * 0.8);
    return {
      baseBytes: DEFAULT_MEMORY_LIMIT_BYTES,
      maxBytes: Math.max(DEFAULT_MEMORY_LIMIT_BYTES, ceiling),
      source: 'default',
    };
  }
  const bytes = parseMemorySize(text);
  if (bytes === null) {
    throw configError(`${MEMORY_LIMIT_ENV}=${JSON.stringify(text)} is not a memory size`, {
      code: 'CONFIG_MEMORY_LIMIT',
      fix: `set ${MEMORY_LIMIT_ENV} to a size such as 512MB or 2GB, or unset it`,
    });
  }
  return { baseBytes: bytes, maxBytes: bytes, source: 'env' };
}

/** DuckDB's buffer manager refused memory (a commit says "Out of Memory Error", an append may not). */
export function isOutOfMemory(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /Out of Memory Error|could not allocate block|failed to allocate data|failed to pin block/i.test(
    message,
  );
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/**
 * The cap of one instance, shared by all its connections. Commits that raise it may overlap (two
 * destinations on one file); the cap in force is the largest any of them asked for.
 */
export class DuckDBMemoryCap {
  private readonly raised: number[] = [];
  private current: number;
  private readonly setting = new Mutex();

  constructor(readonly policy: MemoryPolicy) {
    this.current = policy.baseBytes;
  }

  /** The user-facing error of a commit that ran out of memory under this cap; null for any other error. */
  describeFailure(where: string, error: unknown): IngestError | null {
    if (!isOutOfMemory(error)) return null;
    // DuckDB's own suggestions (threads, insertion order) are not settings of ours: keep its first line.
    const detail = error instanceof Error ? error.message : String(error);
    return ingestionError(`${where}: ${detail.split('\n')[0]}`, {
      code: 'DESTINATION_OUT_OF_MEMORY',
      fix: this.fix(),
      cause: error,
    });
  }

  /** The cap in force, in bytes. */
  get bytes(): number {
    return this.current;
  }

  /**
   * Runs `attempt` (one whole transaction that rolls itself back when it fails); when it runs out of
   * memory, runs it again with the cap doubled, until it fits or the cap cannot grow. `what` starts
   * the error that says so (what failed and what that left).
   */
  async withRoom<T>(connection: DuckDBConnection, what: string, attempt: () => Promise<T>): Promise<T> {
    for (let bytes = this.policy.baseBytes; ; bytes = Math.min(bytes * 2, this.policy.maxBytes)) {
      try {
        return await this.atLeast(connection, bytes, attempt);
      } catch (error) {
        if (!isOutOfMemory(error)) throw error;
        if (bytes >= this.policy.maxBytes) throw this.outOfMemory(what, bytes, error);
      }
    }
  }

  private async atLeast<T>(
    connection: DuckDBConnection,
    bytes: number,
    action: () => Promise<T>,
  ): Promise<T> {
    if (bytes <= this.policy.baseBytes) return action();
    this.raised.push(bytes);
    try {
      await this.apply(connection);
      return await action();
    } finally {
      this.raised.splice(this.raised.indexOf(bytes), 1);
      await this.apply(connection).catch(() => undefined);
    }
  }

  private apply(connection: DuckDBConnection): Promise<void> {
    return this.setting.run(async () => {
      const wanted = Math.max(this.policy.baseBytes, ...this.raised);
      if (wanted === this.current) return;
      await connection.run(`SET GLOBAL memory_limit = '${wanted}B'`);
      this.current = wanted;
    });
  }

  /** What to do when DuckDB runs out of memory at `bytes`. */
  fix(bytes = this.current): string {
    if (this.policy.source === 'env')
      return `raise ${MEMORY_LIMIT_ENV} (now ${mib(bytes)}), or unset it to let klaviyo-ingest raise the limit when a commit needs it`;
    if (bytes >= this.policy.maxBytes)
      return 'free memory on this machine, or load a shorter window (--start/--end) so one commit holds fewer rows';
    return `set ${MEMORY_LIMIT_ENV} to a larger fixed limit, e.g. 1GB`;
  }

  private outOfMemory(what: string, bytes: number, cause: unknown) {
    return ingestionError(`${what}: DuckDB ran out of memory at its memory limit of ${mib(bytes)}`, {
      code: 'DESTINATION_OUT_OF_MEMORY',
      fix: this.fix(bytes),
      cause,
    });
  }
}
