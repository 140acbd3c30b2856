/**
 * DuckDB's side of a load session (see staged-load.ts for the protocol). Rows are appended with the
 * DuckDB appender, as data chunks, into a TEMP staging table of the session's own connection; DuckDB
 * keeps TEMP data in its buffer pool and spills it to `<database>.tmp/` beyond its memory limit, so
 * nothing is held in JS memory between batches.
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { Row } from '../../records/row.js';
import { ingestionError } from '../../util/errors.js';
import type { ColumnSpec, IngestionLogRow, LoadResult, LoadTarget } from '../destination.js';
import { foldIdentifier, qualifiedName, quoteIdentifier } from '../identifiers.js';
import {
  type MemberSets,
  memberPairs,
  type ParentProgress,
  parentProgressStatements,
} from '../parent-cursors.js';
import { type DeleteScope, markDeletedSql, memberMarksSql, moveSql } from '../row-move-sql.js';
import type { ExistingColumn } from '../schema-evolution.js';
import type { StageColumn, StageSchemaChanges } from '../stage-schema.js';
import { type RowMove, STAGE_SEQ, type StagedLoadSession, type StagingDriver } from '../staged-load.js';
import { inTransaction } from '../transaction.js';
import { DuckDBDataChunk, LIST, listValue, VARCHAR } from './duckdb-api.js';
import { readTableColumns } from './duckdb-catalog.js';
import { duckdbType, safeTimestamp } from './duckdb-types.js';
import { insertLogRows } from './ingestion-log.js';
import { CHUNK_ROWS, StageChunkWriter } from './stage-chunk.js';

/** Member ids bound per statement when they are staged for the marks. */
const MEMBER_BATCH = 10_000;

export class DuckDBStaging implements StagingDriver {
  /** Physical SQL type of each staging column, by stage name. */
  private readonly physical = new Map<string, string>();
  private appender: DuckDBAppender | null = null;
  /**
   * Fills one data chunk, refilled for every batch: a chunk's memory is native and a dropped one is
   * only freed when V8 collects its wrapper, so a chunk per batch let native memory pile up between GCs.
   */
  private writer: StageChunkWriter | null = null;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly stageName: string,
  ) {}

  private get stageTable(): string {
    return `temp.main.${quoteIdentifier(this.stageName)}`;
  }

  async createStage(): Promise<void> {
    await this.connection.run(`CREATE TEMP TABLE ${quoteIdentifier(this.stageName)} (${STAGE_SEQ} INTEGER)`);
    await this.openAppender();
  }

  async evolveStage(changes: StageSchemaChanges): Promise<void> {
    this.closeAppender();
    for (const column of changes.added) {
      const type = duckdbType(column.type ?? 'VARCHAR');
      await this.connection.run(`ALTER TABLE ${this.stageTable} ADD COLUMN ${column.stageName} ${type}`);
      this.physical.set(column.stageName, type);
    }
    for (const column of changes.retyped) {
      const type = duckdbType(column.type ?? 'VARCHAR');
      if (this.physical.get(column.stageName) === type) continue;
      await this.connection.run(
        `ALTER TABLE ${this.stageTable} ALTER COLUMN ${column.stageName} TYPE ${type}`,
      );
      this.physical.set(column.stageName, type);
    }
    await this.openAppender();
  }

  /**
   * The hot path. Rows go in as data chunks of up to 2048 rows (DuckDB's vector size), filled through
   * the C API (stage-chunk.ts); one flush per batch; nothing is kept.
   */
  async stageRows(rows: readonly Row[], columns: readonly StageColumn[], firstSeq: number): Promise<void> {
    const appender = this.appender!;
    const writer = this.writer!;
    for (let offset = 0; offset < rows.length; offset += CHUNK_ROWS) {
      writer.fill(rows, offset, Math.min(CHUNK_ROWS, rows.length - offset), columns, firstSeq + offset);
      appender.appendDataChunk(writer.chunk);
    }
    appender.flushSync();
  }

  async endStaging(): Promise<void> {
    this.closeAppender();
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    return inTransaction((sql) => this.connection.run(sql), work);
  }

  async tableColumns(schema: string, table: string): Promise<ExistingColumn[] | null> {
    return readTableColumns(this.connection, schema, table);
  }

  async createTable(schema: string, table: string, columns: readonly ColumnSpec[]): Promise<void> {
    const list = columns.map((column) => `${quoteIdentifier(column.name)} ${duckdbType(column.type)}`);
    await this.connection.run(`CREATE TABLE ${qualifiedName(schema, table)} (${list.join(', ')})`);
  }

  async addColumn(schema: string, table: string, column: ColumnSpec): Promise<void> {
    await this.connection.run(
      `ALTER TABLE ${qualifiedName(schema, table)} ADD COLUMN ${quoteIdentifier(column.name)} ${duckdbType(column.type)}`,
    );
  }

  async widenColumn(schema: string, table: string, column: ColumnSpec): Promise<void> {
    await this.connection.run(
      `ALTER TABLE ${qualifiedName(schema, table)} ALTER COLUMN ${quoteIdentifier(column.name)} TYPE ${duckdbType(column.type)}`,
    );
  }

  async moveRows(move: RowMove): Promise<LoadResult> {
    const { mode, windowColumn } = move.target;
    const { id, window: windowStage } = move;
    const spec = (column: StageColumn) => move.resolved.get(column.name)!;
    const sql = moveSql(move, this.stageTable, {
      sqlType: duckdbType,
      // Staging columns already have their logical type; cast only where the table's column is wider.
      needsCast: (column, tableType) => column.type !== tableType,
      safeTimestamp,
    });
    const { target, targetList, names, casts } = sql;
    const insert = async (text: string, params: string[] = []) =>
      Number((await this.connection.runAndReadAll(text, params)).getRows()[0]?.[0] ?? 0);
    const total = move.stagedRows;

    if (mode === 'replace') {
      await this.connection.run(`DELETE FROM ${target}`);
      return { inserted: await insert(sql.insertAll), duplicatesSkipped: 0 };
    }

    if ((mode === 'merge' || mode === 'snapshot') && sql.merge !== null) {
      await this.connection.run(sql.merge.delete);
      const inserted = await insert(sql.merge.insert);
      return { inserted, duplicatesSkipped: total - inserted };
    }

    // append
    if (windowColumn === null || id === undefined) {
      // Full loads (metrics) are appended whole every run, as the templates do.
      return { inserted: await insert(sql.insertAll), duplicatesSkipped: 0 };
    }
    const windowInStage = windowStage === undefined ? 'NULL' : `s.${windowStage.stageName}`;
    const windowInTable = move.tableColumns.has(foldIdentifier(windowColumn))
      ? `t.${quoteIdentifier(windowColumn)}`
      : 'NULL';
    // A duplicate has exactly the staged window text, so only table rows whose window text lies within
    // the stage's min..max can match. Bound as constants, DuckDB skips every other row group by its
    // min/max: a checkpoint's commit reads the rows near its window, not the whole table.
    let inRange = '';
    const params: string[] = [];
    if (windowStage?.type === 'VARCHAR' && windowInTable !== 'NULL' && spec(windowStage).type === 'VARCHAR') {
      const stats = await this.connection.runAndReadAll(
        `SELECT min(${windowStage.stageName}), max(${windowStage.stageName}), count(*) FILTER (WHERE ${windowStage.stageName} IS NULL) FROM ${this.stageTable}`,
      );
      const [lo, hi, nulls] = stats.getRows()[0] ?? [];
      if (typeof lo === 'string' && typeof hi === 'string' && Number(nulls) === 0) {
        inRange = ` WHERE ${windowInTable} BETWEEN $1 AND $2`;
        params.push(lo, hi);
      }
    }
    // An anti join against the table's (id, window) pairs, not NOT EXISTS: DuckDB runs the correlated
    // form as a delim join that holds every staged row with all its columns in memory, which ran out
    // of memory on 1,000,000 staged rows at 64 MB; the anti join only builds the table's pairs.
    const existing = `SELECT t.${quoteIdentifier(spec(id).name)} AS ki_id, ${windowInTable} AS ki_w FROM ${target} t${inRange}`;
    const inserted = await insert(
      `INSERT INTO ${target} (${targetList}) SELECT ${names} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName}, ${windowStage?.stageName ?? 'NULL'} ORDER BY ${STAGE_SEQ}) AS ki_rn FROM ${this.stageTable}) s ANTI JOIN (${existing}) e ON e.ki_id = s.${id.stageName} AND e.ki_w IS NOT DISTINCT FROM ${windowInStage} WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`,
      params,
    );
    return { inserted, duplicatesSkipped: total - inserted };
  }

  async markDeleted(
    schema: string,
    table: string,
    stagedId: string | null,
    deletedAt: string,
    scope?: DeleteScope,
  ): Promise<number> {
    const result = await this.connection.runAndReadAll(
      markDeletedSql(schema, table, this.stageTable, stagedId, scope),
      [deletedAt, ...(scope?.parentIds ?? [])],
    );
    return Number(result.getRows()[0]?.[0] ?? 0);
  }

  async markMembers(
    schema: string,
    table: string,
    members: MemberSets,
    windowColumn: string | null,
    deletedAt: string,
  ): Promise<number> {
    const membersTable = await createMembersTable(this.connection, `${this.stageName}_members`, members);
    try {
      const sql = memberMarksSql(
        schema,
        table,
        membersTable,
        { parent: members.parentColumn, member: members.memberColumn, window: windowColumn },
        safeTimestamp,
      );
      const marked = await this.connection.runAndReadAll(sql.mark, [deletedAt]);
      await this.connection.run(sql.clear);
      return Number(marked.getRows()[0]?.[0] ?? 0);
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${membersTable}`);
    }
  }

  async insertLogRows(schema: string, rows: readonly IngestionLogRow[]): Promise<void> {
    await insertLogRows(this.connection, schema, rows);
  }

  async recordParentProgress(schema: string, table: string, progress: ParentProgress): Promise<void> {
    for (const { sql, params } of parentProgressStatements(schema, table, progress))
      await this.connection.run(sql, [...params]);
  }

  async dropStage(): Promise<void> {
    await this.connection.run(`DROP TABLE IF EXISTS ${this.stageTable}`);
  }

  async close(): Promise<void> {
    try {
      this.connection.closeSync();
    } catch {
      // Already closed.
    }
  }

  private async openAppender(): Promise<void> {
    const appender = await this.connection.createAppender(this.stageName, 'main', 'temp');
    // The staging table's column types, as the appender reports them (ki_seq first).
    const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
    this.writer = new StageChunkWriter(DuckDBDataChunk.create(types));
    this.appender = appender;
  }

  private closeAppender(): void {
    const appender = this.appender;
    this.appender = null;
    this.writer = null;
    appender?.closeSync();
  }
}

/**
 * A TEMP table `name` (`parent_id`, `member_id`) of the member sets, with a (parent, NULL) row per
 * parent; returns its qualified name. Also the Parquet destination's (its commits run in DuckDB).
 */
export async function createMembersTable(
  connection: DuckDBConnection,
  name: string,
  members: MemberSets,
): Promise<string> {
  const membersTable = `temp.main.${quoteIdentifier(name)}`;
  const pairs = memberPairs(members);
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(name)} (parent_id VARCHAR, member_id VARCHAR)`,
  );
  for (let at = 0; at < pairs.parents.length; at += MEMBER_BATCH) {
    await connection.run(
      `INSERT INTO ${membersTable} SELECT unnest(CAST($1 AS VARCHAR[])), unnest(CAST($2 AS VARCHAR[]))`,
      [
        listValue(pairs.parents.slice(at, at + MEMBER_BATCH)),
        listValue(pairs.members.slice(at, at + MEMBER_BATCH)),
      ],
      // Typed: a list starting with NULL (each parent's marker row) would not be read as VARCHAR.
      [LIST(VARCHAR), LIST(VARCHAR)],
    );
  }
  return membersTable;
}

/**
 * Starts a load session on its own DuckDB connection (its stage is a TEMP table of that connection:
 * no shared catalog, no lock); the connection is closed when the stage cannot be created.
 */
export async function startSessionOn(
  connection: DuckDBConnection,
  session: StagedLoadSession,
  target: LoadTarget,
): Promise<StagedLoadSession> {
  try {
    await session.start();
  } catch (error) {
    connection.closeSync();
    throw ingestionError(`cannot start loading ${target.schema}.${target.table}: ${String(error)}`, {
      code: 'DESTINATION_WRITE',
      cause: error,
    });
  }
  return session;
}
