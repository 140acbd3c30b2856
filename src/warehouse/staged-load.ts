/**
 * The load protocol every destination follows, written once: rows are staged as they arrive (the
 * staging columns follow the records), then one commit transaction evolves the table's schema, moves
 * the staged rows in with the target's mode (append with the (id, window value) dedupe, merge, replace),
 * inserts the log rows and drops the stage. A failure at any step rolls back: the table and the
 * ingestion log are exactly as before. A dialect supplies the SQL and the bulk writer
 * (`StagingDriver`); the destination decides how commits are serialized (`SessionHost`).
 */
import type { Row } from '../records/row.js';
import { IngestError, ingestionError } from '../util/errors.js';
import { Mutex } from '../util/mutex.js';
import {
  type ColumnSpec,
  type CommitLogRows,
  DELETED_AT_COLUMN,
  type IngestionLogRow,
  type LoadResult,
  type LoadSession,
  type LoadTarget,
} from './destination.js';
import { foldIdentifier } from './identifiers.js';
import type { MemberSets, ParentProgress } from './parent-cursors.js';
import type { DeleteScope } from './row-move-sql.js';
import { type ExistingColumn, planTableChanges } from './schema-evolution.js';
import { type StageColumn, StageSchema, type StageSchemaChanges } from './stage-schema.js';
import { CommitOutcomeUnknown } from './transaction.js';

/** The steps of a commit, in order; a fault hook can fail (or kill the process) before any of them. */
export type CommitStep = 'schema' | 'rows' | 'log' | 'drop-stage' | 'commit';

export interface CommitHooks {
  /** Called inside the commit transaction before each step. Throwing aborts the commit (tests only). */
  beforeCommitStep?: (step: CommitStep, target: LoadTarget) => void | Promise<void>;
}

/** The staged rows of one commit, ready to move: what the dialect's SQL needs to know. */
export interface RowMove {
  target: LoadTarget;
  /** Staging columns that saw a value (a column of only nulls is left out). */
  staged: readonly StageColumn[];
  /** The table column each staged column goes to (by stage column name), with the table's type. */
  resolved: ReadonlyMap<string, ColumnSpec>;
  /** The table's columns after this commit's schema changes, folded. */
  tableColumns: ReadonlySet<string>;
  /** The staged `id` column, when records had one. */
  id: StageColumn | undefined;
  /** The staged window column (`target.windowColumn`), when records had it. */
  window: StageColumn | undefined;
  /** Rows staged; each has a sequence number 0..stagedRows-1 in the column `STAGE_SEQ`. */
  stagedRows: number;
}

/** The staging table's row number column: arrival order, so the last version of a record wins. */
export const STAGE_SEQ = 'ki_seq';

/** One load session's connection to its database, as the dialect speaks it. */
export interface StagingDriver {
  /** Creates the staging table with only the `STAGE_SEQ` column. */
  createStage(): Promise<void>;
  /** Adds new staging columns and widens retyped ones (logical types in the columns). */
  evolveStage(changes: StageSchemaChanges): Promise<void>;
  /** Bulk-writes rows into the stage, numbered from `firstSeq`, with the columns known so far. */
  stageRows(rows: readonly Row[], columns: readonly StageColumn[], firstSeq: number): Promise<void>;
  /** Ends bulk writing before a commit or an abort (nothing is left buffered). */
  endStaging(): Promise<void>;
  /** Runs `work` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** The table's columns with their logical types, or null when it does not exist. */
  tableColumns(schema: string, table: string): Promise<ExistingColumn[] | null>;
  createTable(schema: string, table: string, columns: readonly ColumnSpec[]): Promise<void>;
  addColumn(schema: string, table: string, column: ColumnSpec): Promise<void>;
  /** Changes a column to a wider logical type, keeping its values (as text where they become text). */
  widenColumn(schema: string, table: string, column: ColumnSpec): Promise<void>;
  /** Moves the staged rows into the table with the target's mode; returns what was inserted. */
  moveRows(move: RowMove): Promise<LoadResult>;
  /**
   * `snapshot` mode, after the move: sets `_deleted_at` = `deletedAt` on the table's live rows whose id
   * is not staged (`stagedId`: the stage's id column, null when nothing was staged), only the rows of
   * some parents with a `scope` (child collections); returns how many.
   */
  markDeleted(
    schema: string,
    table: string,
    stagedId: string | null,
    deletedAt: string,
    scope?: DeleteScope,
  ): Promise<number>;
  /** Inserts log rows into `<schema>.ingestion_log`, creating it when missing. */
  insertLogRows(schema: string, rows: readonly IngestionLogRow[]): Promise<void>;
  /**
   * Memberships, after the move: marks the rows of the profiles no longer members with `_deleted_at` =
   * `deletedAt` and clears it on a member's newest row (see `MemberSets`); returns how many it marked.
   */
  markMembers(
    schema: string,
    table: string,
    members: MemberSets,
    windowColumn: string | null,
    deletedAt: string,
  ): Promise<number>;
  /** Records a child collection's parent progress in `ingestion_parents`, inside the commit's transaction. */
  recordParentProgress(schema: string, table: string, progress: ParentProgress): Promise<void>;
  dropStage(): Promise<void>;
  /** Releases the connection. */
  close(): Promise<void>;
}

/** What a session needs from its destination. */
export interface SessionHost {
  readonly hooks: CommitHooks;
  /**
   * Runs one commit attempt (or several: DuckDB retries one that ran out of memory with more), at a
   * time the destination allows (serialized with its other writes, or under the table's lock).
   * `what` says what a failure leaves behind, for messages.
   */
  runCommit<T>(what: string, commit: () => Promise<T>): Promise<T>;
  /** The user-facing error for a database error, or null for the default DESTINATION_WRITE. */
  describeFailure(where: string, error: unknown): IngestError | null;
  sessionEnded(session: StagedLoadSession): void;
}

type State = 'open' | 'committing' | 'done' | 'broken';

export class StagedLoadSession implements LoadSession {
  private readonly schema = new StageSchema();
  private seq = 0;
  private state: State = 'open';
  private readonly writes = new Mutex();

  constructor(
    private readonly host: SessionHost,
    private readonly driver: StagingDriver,
    readonly target: LoadTarget,
    /** The session's staging table (`_ki_stage_<table>_<hex>`). */
    readonly stageName: string,
  ) {}

  /** Creates the staging table; the caller has validated the names and created the schema. */
  async start(): Promise<void> {
    await this.driver.createStage();
  }

  /** Rows staged so far. */
  get stagedRows(): number {
    return this.seq;
  }

  async write(rows: Row[]): Promise<void> {
    // Calls that overlap (not awaited by the caller) run one after the other, in call order.
    return this.writes.run(() => this.writeNow(rows));
  }

  private async writeNow(rows: Row[]): Promise<void> {
    this.assertOpen('write');
    if (rows.length === 0) return;
    try {
      const changes = this.schema.observe(rows);
      if (changes.added.length > 0 || changes.retyped.length > 0) await this.driver.evolveStage(changes);
      await this.driver.stageRows(rows, this.schema.columns, this.seq);
      this.seq += rows.length;
    } catch (error) {
      this.state = 'broken';
      throw this.failure('staging rows failed', error);
    }
  }

  async commit(logRows: CommitLogRows, parents?: ParentProgress): Promise<LoadResult> {
    await this.writes.run(async () => undefined); // let writes already started finish first
    this.assertOpen('commit');
    this.state = 'committing';
    try {
      await this.driver.endStaging();
      const what = `${this.target.schema}.${this.target.table}: the commit of ${this.seq} staged rows was rolled back; the table and ingestion_log are unchanged`;
      const result = await this.host.runCommit(what, () =>
        this.driver.transaction(() => this.commitSteps(logRows, parents)),
      );
      this.state = 'done';
      return result;
    } catch (error) {
      await this.driver.dropStage().catch(() => undefined);
      if (error instanceof CommitOutcomeUnknown) {
        throw this.failure(
          "the commit's outcome is unknown (the connection was lost while COMMIT was sent): the rows and the SUCCESS row are in the table and ingestion_log either both or neither; a rerun is safe (rows already present are skipped, merge and replace repeat), except that a full-load append without a window column could then hold this load twice",
          error.cause,
        );
      }
      throw this.failure(
        'the commit failed and was rolled back; the table and ingestion_log are unchanged',
        error,
      );
    } finally {
      await this.end();
    }
  }

  async abort(): Promise<void> {
    await this.writes.run(async () => undefined);
    if (this.state === 'done' || this.state === 'committing') return;
    this.state = 'done';
    try {
      // A broken bulk writer holds nothing we want; the stage is dropped below.
      await this.driver.endStaging().catch(() => undefined);
      await this.driver.dropStage();
    } finally {
      await this.end();
    }
  }

  private async commitSteps(logRows: CommitLogRows, parents?: ParentProgress): Promise<LoadResult> {
    const { schema, table, windowColumn } = this.target;
    const step = async (name: CommitStep) => this.host.hooks.beforeCommitStep?.(name, this.target);
    const d = this.driver;

    await step('schema');
    let existing = await d.tableColumns(schema, table);
    if (existing === null) {
      // The workflow creates the table first; if not, create it as the templates' setup step would.
      const base: ColumnSpec[] = [
        ...(windowColumn === null ? [] : [{ name: windowColumn, type: 'VARCHAR' as const }]),
        { name: 'time', type: 'BIGINT' },
      ];
      await d.createTable(schema, table, base);
      existing = await d.tableColumns(schema, table);
    }
    const staged = this.schema.columns.filter((column) => column.type !== null);
    const plan = planTableChanges(existing ?? [], staged, foldIdentifier);
    for (const column of plan.add) await d.addColumn(schema, table, column);
    for (const column of plan.alter) await d.widenColumn(schema, table, column);
    const snapshot = this.target.mode === 'snapshot';
    const has = (name: string) =>
      [...(existing ?? []), ...plan.add].some(
        (column) => foldIdentifier(column.name) === foldIdentifier(name),
      );
    const members =
      parents?.members !== undefined && parents.members.current.size > 0 ? parents.members : null;
    if ((snapshot || members !== null) && !has(DELETED_AT_COLUMN)) {
      await d.addColumn(schema, table, { name: DELETED_AT_COLUMN, type: 'VARCHAR' });
    }

    await step('rows');
    const move =
      this.seq === 0 ? null : this.rowMove(staged, plan.resolved, [...(existing ?? []), ...plan.add]);
    const result: LoadResult = move === null ? { inserted: 0, duplicatesSkipped: 0 } : await d.moveRows(move);
    if (snapshot && has('id')) {
      const deletedAt = this.target.deletedAt ?? new Date().toISOString();
      const stagedId = move?.id?.stageName ?? null;
      const perParent = parents?.snapshot;
      if (perParent === undefined) {
        result.markedDeleted = await d.markDeleted(schema, table, stagedId, deletedAt);
      } else if (has(perParent.column)) {
        // A child collection: only the parents read whole in this commit (and, last, those gone).
        const { column, listed } = perParent;
        const done = parents!.done.map((p) => p.parentId);
        let marked = 0;
        if (done.length > 0)
          marked += await d.markDeleted(schema, table, stagedId, deletedAt, {
            column,
            parentIds: done,
            among: true,
          });
        if (parents!.complete)
          marked += await d.markDeleted(schema, table, null, deletedAt, {
            column,
            parentIds: listed,
            among: false,
          });
        result.markedDeleted = marked;
      }
    }

    if (members !== null && has('id') && has(members.parentColumn) && has(members.memberColumn)) {
      const window = windowColumn !== null && has(windowColumn) ? windowColumn : null;
      const marked = await d.markMembers(
        schema,
        table,
        members,
        window,
        this.target.deletedAt ?? new Date().toISOString(),
      );
      result.markedDeleted = (result.markedDeleted ?? 0) + marked;
    }

    await step('log');
    await d.insertLogRows(schema, typeof logRows === 'function' ? logRows(result) : logRows);
    if (parents) await d.recordParentProgress(schema, table, parents);

    await step('drop-stage');
    await d.dropStage();

    await step('commit');
    return result;
  }

  private rowMove(
    staged: readonly StageColumn[],
    resolved: ReadonlyMap<string, ColumnSpec>,
    tableColumns: readonly ColumnSpec[],
  ): RowMove {
    const { mode, windowColumn } = this.target;
    const find = (name: string) =>
      staged.find((column) => foldIdentifier(resolved.get(column.name)!.name) === foldIdentifier(name));
    const id = find('id');
    if ((mode === 'merge' || mode === 'snapshot') && id === undefined) {
      throw ingestionError(
        `${this.target.schema}.${this.target.table}: ${mode} mode needs an 'id' in every record, and none had one`,
        { code: 'DESTINATION_MERGE_KEY', fix: "use out.mode 'append' or 'replace' for this source" },
      );
    }
    return {
      target: this.target,
      staged,
      resolved,
      tableColumns: new Set(tableColumns.map((column) => foldIdentifier(column.name))),
      id,
      window: windowColumn === null ? undefined : find(windowColumn),
      stagedRows: this.seq,
    };
  }

  private assertOpen(action: string): void {
    if (this.state !== 'open') {
      throw ingestionError(
        `cannot ${action} the load of ${this.target.schema}.${this.target.table}: it is already ${this.state === 'broken' ? 'failed' : 'finished'}`,
        { code: 'LOAD_SESSION_CLOSED' },
      );
    }
  }

  private failure(what: string, error: unknown): IngestError {
    if (error instanceof IngestError) return error;
    const where = `${this.target.schema}.${this.target.table}: ${what}`;
    const described = this.host.describeFailure(where, error);
    if (described !== null) return described;
    const detail = error instanceof Error ? error.message : String(error);
    return ingestionError(`${where}: ${detail}`, { code: 'DESTINATION_WRITE', cause: error });
  }

  private async end(): Promise<void> {
    if (this.state === 'committing' || this.state === 'open') this.state = 'done';
    await this.driver.close().catch(() => undefined);
    this.host.sessionEnded(this);
  }
}
