/**
 * The Parquet destination's side of a load session (see staged-load.ts for the protocol). Rows are
 * staged exactly as in the DuckDB destination (a TEMP table of an in-memory DuckDB, spilling to disk
 * past its memory limit); the commit "transaction" is a Parquet commit (parquet-commits.ts): schema
 * changes and log rows are collected, moveRows writes the new files into the staging folder, and the
 * commit is published when the protocol's steps all succeeded. Nothing is visible before that.
 *
 * What a commit rewrites, copy-on-write: append writes new files only (the dedupe reads the
 * partitions the staged rows fall into); merge rewrites the partitions holding a staged id; replace
 * drops every file; widening a column's type rewrites every file, so each column has one type in
 * every file (engines that merge schemas refuse a column whose type differs between files).
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Row } from '../../records/row.js';
import {
  type ColumnSpec,
  DELETED_AT_COLUMN,
  type IngestionLogRow,
  type LoadResult,
  type LoadTarget,
} from '../destination.js';
import { createMembersTable, DuckDBStaging } from '../duckdb/duckdb-staging.js';
import { safeTimestamp } from '../duckdb/duckdb-types.js';
import { foldIdentifier, quoteIdentifier } from '../identifiers.js';
import type { MemberSets, ParentProgress } from '../parent-cursors.js';
import type { DeleteScope } from '../row-move-sql.js';
import type { ExistingColumn } from '../schema-evolution.js';
import type { StageColumn, StageSchemaChanges } from '../stage-schema.js';
import { type RowMove, STAGE_SEQ, type StagingDriver } from '../staged-load.js';
import type { Manifest, ManifestFile } from './parquet-layout.js';
import {
  absoluteFiles,
  filesSelect,
  fileType,
  loadDate,
  sqlText,
  type WrittenFile,
  windowPartition,
  writePartitioned,
} from './parquet-sql.js';

/** One commit being built: what the protocol's steps changed, published at the end. */
export interface PendingCommit {
  seq: number;
  /** The table's committed manifest (null: the table does not exist). */
  committed: Manifest | null;
  /** The table's columns after this commit's changes (null while it does not exist). */
  columns: ColumnSpec[] | null;
  /** The columns or files changed: the table gets a manifest in this commit. */
  changed: boolean;
  /** Files written by this commit. */
  written: WrittenFile[];
  /** Committed files this commit drops (paths as in the manifest). */
  removed: Set<string>;
  logRows: IngestionLogRow[];
  /** A child collection's parent progress, published as `ingestion_parents` in this commit. */
  parents: ParentProgress | null;
  /** The folder the commit's files are written to before they are renamed into place. */
  stagingFolder: string;
}

/** What the driver needs from its destination. */
export interface ParquetCommitter {
  /** Starts commit of `target` (recovering the schema first); the caller holds the commit lock. */
  begin(target: LoadTarget): Promise<PendingCommit>;
  /** Publishes a commit whose steps all succeeded. */
  publish(target: LoadTarget, commit: PendingCommit): Promise<void>;
  /** Drops a commit that failed: its staged files are removed. */
  discard(target: LoadTarget, commit: PendingCommit): Promise<void>;
  /** The folder of a dataset (absolute). */
  folder(schema: string, table: string): string;
  /** Runs `work` while no commit runs (staging and commits share one DuckDB's memory). */
  outsideCommits<T>(work: () => Promise<T>): Promise<T>;
}

export class ParquetStaging implements StagingDriver {
  private readonly stage: DuckDBStaging;
  private pending: PendingCommit | null = null;
  /** `snapshot` mode: the staged ids (SQL), once moveRows ran in this commit. */
  private snapshotIds: string | null = null;
  /** Rewrites of this session's commits, naming their staging folders apart. */
  private rewrites = 0;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly stageName: string,
    private readonly target: LoadTarget,
    private readonly committer: ParquetCommitter,
  ) {
    this.stage = new DuckDBStaging(connection, stageName);
  }

  private get stageTable(): string {
    return `temp.main.${quoteIdentifier(this.stageName)}`;
  }

  createStage(): Promise<void> {
    return this.stage.createStage();
  }

  evolveStage(changes: StageSchemaChanges): Promise<void> {
    return this.stage.evolveStage(changes);
  }

  // Staging waits while a commit runs: a commit's dedupe and Parquet writes fill the in-memory
  // DuckDB's cap, and an append then could not get a block (seen in CI: "could not allocate block").
  stageRows(rows: readonly Row[], columns: readonly StageColumn[], firstSeq: number): Promise<void> {
    return this.committer.outsideCommits(() => this.stage.stageRows(rows, columns, firstSeq));
  }

  endStaging(): Promise<void> {
    return this.committer.outsideCommits(() => this.stage.endStaging());
  }

  dropStage(): Promise<void> {
    return this.stage.dropStage();
  }

  async close(): Promise<void> {
    await this.stage.close();
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const pending = await this.committer.begin(this.target);
    this.pending = pending;
    this.snapshotIds = null;
    try {
      const result = await work();
      await this.committer.publish(this.target, pending);
      return result;
    } catch (error) {
      await this.committer.discard(this.target, pending).catch(() => undefined);
      throw error;
    } finally {
      this.pending = null;
      await this.connection.run('DROP TABLE IF EXISTS temp.main.ki_new').catch(() => undefined);
    }
  }

  private get commit(): PendingCommit {
    if (this.pending === null) throw new Error('a Parquet commit step ran outside its commit');
    return this.pending;
  }

  async tableColumns(): Promise<ExistingColumn[] | null> {
    return this.commit.columns?.map((column) => ({ ...column, exact: true })) ?? null;
  }

  async createTable(_schema: string, _table: string, columns: readonly ColumnSpec[]): Promise<void> {
    this.commit.columns = [...columns];
    this.commit.changed = true;
  }

  async addColumn(_schema: string, _table: string, column: ColumnSpec): Promise<void> {
    this.commit.columns = [...(this.commit.columns ?? []), column];
    this.commit.changed = true;
  }

  async widenColumn(_schema: string, _table: string, column: ColumnSpec): Promise<void> {
    const commit = this.commit;
    commit.columns = (commit.columns ?? []).map((existing) =>
      existing.name === column.name ? { ...column } : existing,
    );
    commit.changed = true;
    // Every file is rewritten with the wider type (see the file comment).
    for (const file of commit.committed?.files ?? []) commit.removed.add(file.path);
  }

  /** Kept for the commit: the destination rewrites `ingestion_parents` under the same number (parquet-parents.ts). */
  async recordParentProgress(_schema: string, _table: string, progress: ParentProgress): Promise<void> {
    this.commit.parents = progress;
  }

  async insertLogRows(_schema: string, rows: readonly IngestionLogRow[]): Promise<void> {
    this.commit.logRows = [...rows];
  }

  async moveRows(move: RowMove): Promise<LoadResult> {
    const commit = this.commit;
    const c = this.connection;
    const { mode, windowColumn } = move.target;
    const columns = commit.columns ?? [];
    const folder = this.committer.folder(move.target.schema, move.target.table);
    const committedFiles = absoluteFiles(folder, commit.committed?.files ?? []);
    const spec = (column: StageColumn) => move.resolved.get(column.name)!;
    const { id, window } = move;

    // The staged columns cast to their table column's file type, named by stage name.
    const casts = move.staged
      .map((column) => `CAST(${column.stageName} AS ${fileType(spec(column).type)}) AS ${column.stageName}`)
      .join(', ');
    // The staged rows as the table's columns (stage names -> table names, NULL for the others).
    const byColumn = new Map(move.staged.map((column) => [foldIdentifier(spec(column).name), column]));
    const asTable = columns
      .map((column) => {
        const staged = byColumn.get(foldIdentifier(column.name));
        return `${staged === undefined ? `CAST(NULL AS ${fileType(column.type)})` : `s.${staged.stageName}`} AS ${quoteIdentifier(column.name)}`;
      })
      .join(', ');
    const existing = (files: typeof committedFiles) => filesSelect(files, columns, fileType);

    let newRows: string;
    /** Committed rows kept in the rewritten files (none when nothing is rewritten). */
    let keepWhere = 'true';
    const keptRows = (files: typeof committedFiles) =>
      `SELECT * FROM (${existing(files)}) WHERE ${keepWhere}`;
    if (mode === 'snapshot' && id !== undefined) {
      // Merged by id here (the whole table is rewritten: snapshot tables are the account's objects, not
      // its events); markDeleted then marks the rows this read did not return, in the rows it is told.
      for (const file of committedFiles) commit.removed.add(file.path);
      const idColumn = quoteIdentifier(spec(id).name);
      const stagedIds = `SELECT CAST(${id.stageName} AS ${fileType(spec(id).type)}) FROM ${this.stageTable} WHERE ${id.stageName} IS NOT NULL`;
      keepWhere = `(${idColumn} IS NULL OR ${idColumn} NOT IN (${stagedIds}))`;
      this.snapshotIds = stagedIds;
      const newest = window === undefined ? '' : `${safeTimestamp(window.stageName)} DESC NULLS LAST, `;
      newRows = `SELECT ${asTable} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName} ORDER BY ${newest}${STAGE_SEQ} DESC) AS ki_rn FROM ${this.stageTable}) s WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`;
    } else if (mode === 'replace') {
      for (const file of committedFiles) commit.removed.add(file.path);
      newRows = `SELECT ${asTable} FROM (SELECT ${casts} FROM ${this.stageTable}) s`;
    } else if (mode === 'merge' && id !== undefined) {
      const idColumn = quoteIdentifier(spec(id).name);
      const stagedIds = `SELECT CAST(${id.stageName} AS ${fileType(spec(id).type)}) FROM ${this.stageTable} WHERE ${id.stageName} IS NOT NULL`;
      const idIndex = columns.findIndex(
        (column) => foldIdentifier(column.name) === foldIdentifier(spec(id).name),
      );
      const withId = committedFiles.filter((file) => idIndex >= 0 && idIndex < file.columns);
      if (withId.length > 0) {
        // The partitions holding a staged id are rewritten without those ids.
        const hit = await c.runAndReadAll(
          `SELECT DISTINCT filename FROM read_parquet([${withId.map((f) => sqlText(f.absolute)).join(', ')}], filename = true, union_by_name = true, hive_partitioning = false)
            WHERE ${idColumn} IN (${stagedIds})`,
        );
        const hitFiles = new Set(hit.getRows().map(([file]) => String(file)));
        const partitions = new Set(
          committedFiles.filter((f) => hitFiles.has(f.absolute)).map((f) => f.partition),
        );
        for (const file of committedFiles) if (partitions.has(file.partition)) commit.removed.add(file.path);
      }
      keepWhere = `(${idColumn} IS NULL OR ${idColumn} NOT IN (${stagedIds}))`;
      const newest = window === undefined ? '' : `${safeTimestamp(window.stageName)} DESC NULLS LAST, `;
      newRows = `SELECT ${asTable} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName} ORDER BY ${newest}${STAGE_SEQ} DESC) AS ki_rn FROM ${this.stageTable}) s WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`;
    } else if (windowColumn === null || id === undefined) {
      // Full loads (metrics) are appended whole every run, as the templates do.
      newRows = `SELECT ${asTable} FROM (SELECT ${casts} FROM ${this.stageTable}) s`;
    } else {
      // Append: a duplicate has the same id and window text, so the same partition: only the
      // partitions the staged rows fall into are read, and only their id and window columns.
      const partitionOfStage =
        window === undefined ? windowPartition('NULL') : windowPartition(window.stageName);
      const hit = await c.runAndReadAll(`SELECT DISTINCT ${partitionOfStage} FROM ${this.stageTable}`);
      const partitions = new Set(hit.getRows().map(([value]) => String(value)));
      const candidates = committedFiles.filter((file) => partitions.has(file.partition));
      const idName = quoteIdentifier(spec(id).name);
      const hasWindow = columns.some(
        (column) => foldIdentifier(column.name) === foldIdentifier(windowColumn),
      );
      const windowInStage = window === undefined ? 'NULL' : `s.${window.stageName}`;
      const pairs = hasWindow
        ? `SELECT ${idName} AS ki_id, ${quoteIdentifier(windowColumn)} AS ki_w FROM (${existing(candidates)})`
        : `SELECT ${idName} AS ki_id, NULL AS ki_w FROM (${existing(candidates)})`;
      newRows = `SELECT ${asTable} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName}, ${window?.stageName ?? 'NULL'} ORDER BY ${STAGE_SEQ}) AS ki_rn FROM ${this.stageTable}) s ANTI JOIN (${pairs}) e ON e.ki_id = s.${id.stageName} AND e.ki_w IS NOT DISTINCT FROM ${windowInStage} WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`;
    }

    await c.run(`CREATE OR REPLACE TEMP TABLE ki_new AS ${newRows}`);
    const inserted = Number(
      (await c.runAndReadAll('SELECT count(*) FROM temp.main.ki_new')).getRows()[0]?.[0],
    );
    const rewritten = committedFiles.filter((file) => commit.removed.has(file.path));
    const kept = mode === 'replace' ? [] : rewritten;
    const select =
      kept.length === 0
        ? 'SELECT * FROM temp.main.ki_new'
        : `SELECT * FROM temp.main.ki_new UNION ALL ${keptRows(kept)}`;
    await this.writeTable(select, move.target);
    return { inserted, duplicatesSkipped: move.stagedRows - inserted };
  }

  /**
   * `snapshot` mode, after moveRows merged the staged rows: the live rows whose id was not staged
   * (all, with nothing staged) get `_deleted_at`; a `scope` limits it to some parents' rows.
   */
  async markDeleted(
    schema: string,
    table: string,
    stagedId: string | null,
    deletedAt: string,
    scope?: DeleteScope,
  ): Promise<number> {
    const q = quoteIdentifier;
    const conditions: string[] = [];
    if (stagedId !== null && this.snapshotIds !== null)
      conditions.push(`(${q('id')} IS NULL OR ${q('id')} NOT IN (${this.snapshotIds}))`);
    if (scope !== undefined) {
      const list = scope.parentIds.map(sqlText).join(', ');
      const column = q(scope.column);
      if (scope.among) conditions.push(`${column} IN (${list || 'NULL'})`);
      else if (list !== '') conditions.push(`(${column} IS NULL OR ${column} NOT IN (${list}))`);
    }
    return this.markWhere(
      schema,
      table,
      conditions.length === 0 ? 'true' : conditions.join(' AND '),
      deletedAt,
    );
  }

  /**
   * Sets `_deleted_at` = `deletedAt` on the live rows matching `condition` (SQL over the table's
   * columns) of the table as this commit leaves it: the files holding such rows are rewritten, with the
   * files this commit wrote (so the new names never meet the old ones). Returns how many.
   */
  private async markWhere(
    schema: string,
    table: string,
    condition: string,
    deletedAt: string,
  ): Promise<number> {
    const commit = this.commit;
    const columns = commit.columns ?? [];
    const deleted = quoteIdentifier(DELETED_AT_COLUMN);
    const kept = absoluteFiles(
      this.committer.folder(schema, table),
      (commit.committed?.files ?? []).filter((file) => !commit.removed.has(file.path)),
    );
    const written = commit.written.map((w) => ({ ...w.file, absolute: w.staged }));
    if (kept.length + written.length === 0) return 0;
    const hit = `(${deleted} IS NULL AND coalesce((${condition}), false))`;
    const changes = await this.connection.runAndReadAll(
      `SELECT ki_file, count(*) FROM (${filesSelect([...kept, ...written], columns, fileType, true)}) WHERE ${hit} GROUP BY ki_file`,
    );
    const changed = new Set(changes.getRows().map(([file]) => String(file)));
    const marked = changes.getRows().reduce((n, [, count]) => n + Number(count), 0);
    if (marked === 0) return 0;
    const rewritten = [...kept.filter((file) => changed.has(file.absolute)), ...written];
    for (const file of rewritten) if (kept.includes(file)) commit.removed.add(file.path);
    const list = columns
      .map((column) =>
        column.name === DELETED_AT_COLUMN
          ? `CASE WHEN ${hit} THEN ${sqlText(deletedAt)} ELSE ${deleted} END AS ${deleted}`
          : quoteIdentifier(column.name),
      )
      .join(', ');
    await this.writeTable(
      `SELECT ${list} FROM (${filesSelect(rewritten, columns, fileType)})`,
      this.target,
      `${table}.marked${++this.rewrites}`,
    );
    return marked;
  }

  /**
   * Memberships (see `MemberSets`): the rows of the checked parents get their `_deleted_at` as the
   * other destinations' UPDATEs set it. The files holding a row whose value changes are rewritten
   * copy-on-write, with the files this commit wrote (so the new names never meet the old ones).
   */
  async markMembers(
    schema: string,
    table: string,
    members: MemberSets,
    windowColumn: string | null,
    deletedAt: string,
  ): Promise<number> {
    const commit = this.commit;
    const c = this.connection;
    const columns = commit.columns ?? [];
    const kept = absoluteFiles(
      this.committer.folder(schema, table),
      (commit.committed?.files ?? []).filter((file) => !commit.removed.has(file.path)),
    );
    const written = commit.written.map((w) => ({ ...w.file, absolute: w.staged }));
    if (kept.length + written.length === 0) return 0;
    const membersTable = await createMembersTable(c, `${this.stageName}_members`, members);
    try {
      const q = quoteIdentifier;
      const parent = q(members.parentColumn);
      const deleted = q(DELETED_AT_COLUMN);
      const checked = `${parent} IN (SELECT parent_id FROM ${membersTable})`;
      const all = filesSelect([...kept, ...written], columns, fileType, true);
      const ts = (expression: string) => (windowColumn === null ? 'NULL' : safeTimestamp(expression));
      // Each checked id's newest window value, over every row the table has after this commit.
      await c.run(
        `CREATE OR REPLACE TEMP TABLE ki_newest AS SELECT id AS ki_id, max(${ts(q(windowColumn ?? 'id'))}) AS ki_newest FROM (${all}) WHERE ${checked} GROUP BY id`,
      );
      const older =
        windowColumn === null ? 'false' : `coalesce(${ts(`r.${q(windowColumn)}`)} < n.ki_newest, false)`;
      const member = `EXISTS (SELECT 1 FROM ${membersTable} m WHERE m.parent_id = r.${parent} AND m.member_id = r.${q(members.memberColumn)})`;
      const value = `CASE WHEN n.ki_id IS NULL THEN r.${deleted} WHEN NOT ${older} AND ${member} THEN NULL ELSE coalesce(r.${deleted}, ${sqlText(deletedAt)}) END`;
      const withValue = (from: string) =>
        `SELECT r.*, ${value} AS ki_value FROM (${from}) r LEFT JOIN temp.main.ki_newest n ON n.ki_id = r.id`;
      const changes = await c.runAndReadAll(
        `SELECT ki_file, count(*) FILTER (WHERE ${deleted} IS NULL AND ki_value IS NOT NULL) FROM (${withValue(all)})
          WHERE ki_value IS DISTINCT FROM ${deleted} GROUP BY ki_file`,
      );
      const changed = new Set(changes.getRows().map(([file]) => String(file)));
      const marked = changes.getRows().reduce((n, [, count]) => n + Number(count), 0);
      if (changed.size === 0) return 0;
      // The changed committed files leave the table; every file this commit wrote is written again.
      const rewritten = [...kept.filter((file) => changed.has(file.absolute)), ...written];
      for (const file of rewritten) if (kept.includes(file)) commit.removed.add(file.path);
      const list = columns
        .map((column) => (column.name === DELETED_AT_COLUMN ? `ki_value AS ${deleted}` : q(column.name)))
        .join(', ');
      await this.writeTable(
        `SELECT ${list} FROM (${withValue(filesSelect(rewritten, columns, fileType))})`,
        this.target,
        `${table}.members`,
      );
      return marked;
    } finally {
      await c.run('DROP TABLE IF EXISTS temp.main.ki_newest');
      await c.run(`DROP TABLE IF EXISTS ${membersTable}`);
    }
  }

  /** Writes the commit's files of the table: the rows of `select`, partitioned by the window's date. */
  private async writeTable(select: string, target: LoadTarget, folderName = target.table): Promise<void> {
    const commit = this.commit;
    const { windowColumn } = target;
    const hasWindow =
      windowColumn !== null &&
      (commit.columns ?? []).some((column) => foldIdentifier(column.name) === foldIdentifier(windowColumn));
    commit.written = await writePartitioned(this.connection, {
      select,
      partition: hasWindow ? windowPartition(quoteIdentifier(windowColumn)) : sqlText(loadDate()),
      folder: path.join(commit.stagingFolder, folderName),
      seq: commit.seq,
      columns: (commit.columns ?? []).length,
      windowColumn: hasWindow ? windowColumn : null,
    });
    commit.changed = true;
  }
}

/** The files of a table after a commit: the committed ones it kept, then the ones it wrote. */
export function filesAfter(commit: PendingCommit): ManifestFile[] {
  return [
    ...(commit.committed?.files ?? []).filter((file) => !commit.removed.has(file.path)),
    ...commit.written.map((written) => written.file),
  ];
}
