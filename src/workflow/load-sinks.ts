import type { Row } from '../records/row.js';
import type { Clock } from '../util/clock.js';
import { Mutex } from '../util/mutex.js';
import type { IngestionLogRow, LoadResult, LoadSession } from '../warehouse/destination.js';
import { compareSlices, type Slice } from './slices.js';

/** Builds the SUCCESS row(s) once the load's totals are known; they commit with its last rows. */
export type FinalLogRows = (totals: LoadResult) => IngestionLogRow[];

/** Where fetched rows go: staged, then committed. */
export interface LoadSink {
  register(slice: Slice): void;
  write(slice: Slice, rows: Row[]): Promise<void>;
  sliceDone(slice: Slice): Promise<void>;
  /**
   * Reading waits a while (the rate limit's window is spent): commit what may be committed now,
   * rather than when reading resumes and the commit would compete with it.
   */
  checkpoint(): Promise<void>;
  /** Commits everything still staged; the last commit carries the log rows. */
  finish(logRows: FinalLogRows): Promise<LoadResult>;
  abort(): Promise<void>;
}

export type OpenSession = () => Promise<LoadSession>;

/**
 * Everything in one staged load committed at the end: for replace and merge, for sources the API
 * cannot sort (metrics) and for partitioned ones (campaigns), whose parts have no common order.
 */
export class SingleCommitSink implements LoadSink {
  private session: Promise<LoadSession> | null = null;

  constructor(private readonly open: OpenSession) {}

  register(): void {}

  async write(_slice: Slice, rows: Row[]): Promise<void> {
    this.session ??= this.open();
    await (await this.session).write(rows);
  }

  async sliceDone(): Promise<void> {}

  /** Nothing commits before the end. */
  async checkpoint(): Promise<void> {}

  async finish(logRows: FinalLogRows): Promise<LoadResult> {
    this.session ??= this.open();
    return (await this.session).commit(logRows);
  }

  async abort(): Promise<void> {
    await (await this.session)?.abort();
  }
}

export interface CheckpointPolicy {
  /** Commit the completed prefix once this many rows are staged for it. */
  rows: number;
  /** ... or once this long has passed since the last commit. */
  ms: number;
}

/** Rows staged out of window order (ahead of the frontier) before those slices wait for it. */
const MAX_ROWS_AHEAD = 100_000;

interface Staged {
  session: LoadSession;
  rows: number;
}

/**
 * Checkpointed append in window order. Each slice stages into its own session; only the *frontier*
 * (the first slice in window order not yet committed) ever commits, at least every `policy.rows`
 * rows / `policy.ms`, and when it completes the next slice becomes the frontier. So the table always
 * holds a complete prefix of the window: after a crash the next run's start, the table's max,
 * re-reads at most the uncommitted tail and exactly-once dedupe drops what it sees again.
 * Commits run in order on their own chain, so staging goes on while one commits; slices far ahead
 * of the frontier wait once `MAX_ROWS_AHEAD` rows are staged, which bounds what is held.
 */
export class CheckpointSink implements LoadSink {
  private readonly slices: Slice[] = [];
  private readonly staged = new Map<number, Staged>();
  private readonly committed = new Set<number>();
  private readonly totals: LoadResult = { inserted: 0, duplicatesSkipped: 0 };
  private readonly mutex = new Mutex();
  private commits: Promise<void> = Promise.resolve();
  private commitError: unknown = null;
  private heldRows = 0;
  private lastCommitAt: number;
  private progressed: () => void = () => undefined;
  private progress = this.nextProgress();

  constructor(
    private readonly open: OpenSession,
    private readonly policy: CheckpointPolicy,
    private readonly clock: Clock,
    private readonly maxRowsAhead = MAX_ROWS_AHEAD,
  ) {
    this.lastCommitAt = clock.now();
  }

  register(slice: Slice): void {
    this.slices.push(slice);
    this.slices.sort(compareSlices);
  }

  async write(slice: Slice, rows: Row[]): Promise<void> {
    // Back-pressure: while the frontier is being read, slices ahead of it stop staging once enough is held.
    for (
      let front = this.frontier();
      front !== slice && front?.reading && this.heldRows >= this.maxRowsAhead;
      front = this.frontier()
    ) {
      await this.progress;
    }
    await this.mutex.run(async () => {
      this.throwIfCommitFailed();
      let staged = this.staged.get(slice.id);
      if (!staged) {
        staged = { session: await this.open(), rows: 0 };
        this.staged.set(slice.id, staged);
      }
      await staged.session.write(rows);
      staged.rows += rows.length;
      this.heldRows += rows.length;
      const due = staged.rows >= this.policy.rows || this.clock.now() - this.lastCommitAt >= this.policy.ms;
      if (due && this.frontier() === slice) this.commitInOrder(slice);
    });
  }

  sliceDone(): Promise<void> {
    return this.mutex.run(async () => {
      // Completed slices at the front commit in order; the very last one waits for finish(),
      // whose commit also carries the SUCCESS row.
      for (
        let front = this.frontier();
        front?.done && front !== this.slices.at(-1);
        front = this.frontier()
      ) {
        this.commitInOrder(front);
        this.committed.add(front.id);
      }
      this.signal();
    });
  }

  /**
   * The frontier's staged rows commit now, as they would at its next write once due; resolves when
   * they are committed (writes go on meanwhile).
   */
  async checkpoint(): Promise<void> {
    await this.mutex.run(async () => {
      this.throwIfCommitFailed();
      const front = this.frontier();
      if (front && front !== this.slices.at(-1) && (this.staged.get(front.id)?.rows ?? 0) > 0)
        this.commitInOrder(front);
    });
    await this.commits;
    this.throwIfCommitFailed();
  }

  finish(logRows: FinalLogRows): Promise<LoadResult> {
    return this.mutex.run(async () => {
      const rest = this.slices.filter((slice) => !this.committed.has(slice.id));
      const last = rest.pop();
      for (const slice of rest) this.commitInOrder(slice);
      await this.commits;
      this.throwIfCommitFailed();
      const final = (last && this.staged.get(last.id)?.session) ?? (await this.open());
      if (last) this.staged.delete(last.id);
      const result = await final.commit((loaded) =>
        logRows({
          inserted: this.totals.inserted + loaded.inserted,
          duplicatesSkipped: this.totals.duplicatesSkipped + loaded.duplicatesSkipped,
        }),
      );
      this.add(result);
      return { ...this.totals };
    });
  }

  async abort(): Promise<void> {
    await this.commits.catch(() => undefined);
    const open = [...this.staged.values()];
    this.staged.clear();
    await Promise.all(open.map((staged) => staged.session.abort().catch(() => undefined)));
  }

  private frontier(): Slice | undefined {
    return this.slices.find((slice) => !this.committed.has(slice.id));
  }

  /** Detaches the slice's staged rows and queues their commit behind the ones before. */
  private commitInOrder(slice: Slice): void {
    const staged = this.staged.get(slice.id);
    this.staged.delete(slice.id);
    this.lastCommitAt = this.clock.now();
    if (!staged) return;
    this.commits = this.commits.then(async () => {
      if (this.commitError !== null) {
        await staged.session.abort().catch(() => undefined);
        return;
      }
      try {
        this.add(await staged.session.commit([]));
      } catch (error) {
        this.commitError = error;
      } finally {
        this.heldRows -= staged.rows;
        this.signal();
      }
    });
  }

  private throwIfCommitFailed(): void {
    if (this.commitError !== null) throw this.commitError;
  }

  private nextProgress(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.progressed = resolve;
    });
  }

  private signal(): void {
    const resolve = this.progressed;
    this.progress = this.nextProgress();
    resolve();
  }

  private add(result: LoadResult): void {
    this.totals.inserted += result.inserted;
    this.totals.duplicatesSkipped += result.duplicatesSkipped;
  }
}
