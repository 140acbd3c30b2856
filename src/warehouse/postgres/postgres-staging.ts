/**
 * PostgreSQL's side of a load session (see staged-load.ts for the protocol). The stage is a TEMP table
 * of the session's own pooled connection, filled with `COPY ... FROM STDIN` in text format, one COPY
 * per batch; nothing is held in JS memory between batches. JSON values are staged as their text and
 * become jsonb when they move into the table, so a JSON column widened to text within a load keeps the
 * exact text of every value.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Row } from '../../records/row.js';
import type { ColumnSpec, ColumnType, IngestionLogRow, LoadResult } from '../destination.js';
import { foldIdentifier, qualifiedName, quoteIdentifier } from '../identifiers.js';
import { asText } from '../json-text.js';
import {
  type MemberSets,
  memberPairs,
  type ParentProgress,
  parentProgressStatements,
} from '../parent-cursors.js';
import { type DeleteScope, markDeletedSql, memberMarksSql, moveSql } from '../row-move-sql.js';
import type { ExistingColumn } from '../schema-evolution.js';
import type { StageColumn, StageSchemaChanges } from '../stage-schema.js';
import { type RowMove, STAGE_SEQ, type StagingDriver } from '../staged-load.js';
import { inTransaction } from '../transaction.js';
import { insertLogRows, readTableColumns } from './postgres-catalog.js';
import {
  copyField,
  isConnectionFailure,
  isConnectionLost,
  jsonbText,
  safeTimestamp,
} from './postgres-sql.js';
import { postgresType } from './postgres-types.js';

/** Rows per chunk of COPY text handed to the socket. */
const COPY_CHUNK_ROWS = 1000;

/** The physical type of a staging column: JSON is staged as text (see the file comment). */
function stageType(type: ColumnType | null): string {
  return type === null || type === 'JSON' ? 'text' : postgresType(type);
}

/** Member ids bound per statement when they are staged for the marks. */
const MEMBER_BATCH = 10_000;

export class PostgresStaging implements StagingDriver {
  /** Physical SQL type of each staging column, by stage name. */
  private readonly physical = new Map<string, string>();
  /** Set when a statement failed in a way that may leave the connection unusable: it is destroyed. */
  private broken = false;
  private released = false;
  /**
   * Why the connection went away, as the server or the socket said it (e.g. `terminating connection
   * due to administrator command`, 57P01). pg reports it once, as an 'error' event when no query is
   * running (without a listener that would crash the process), and answers every later query with
   * "Client has encountered a connection error and is not queryable": failures name this cause instead.
   */
  private lost: unknown = null;
  private readonly onConnectionError = (error: unknown) => {
    this.lost ??= error;
    this.broken = true;
  };

  constructor(
    private readonly client: PoolClient,
    private readonly stageName: string,
  ) {
    client.on('error', this.onConnectionError);
  }

  /** The error to report for `error`: the connection's own loss when that is what it is about. */
  private cause(error: unknown): unknown {
    if (isConnectionFailure(error)) this.broken = true;
    if (isConnectionLost(error)) {
      this.lost ??= error;
      return this.lost;
    }
    return error;
  }

  /** Runs `action`, reporting a lost connection by its cause. */
  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw this.cause(error);
    }
  }

  private get stageTable(): string {
    return `pg_temp.${quoteIdentifier(this.stageName)}`;
  }

  private async run(sql: string, params?: unknown[]) {
    return this.guard(() => this.client.query(sql, params));
  }

  async createStage(): Promise<void> {
    await this.run(`CREATE TEMP TABLE ${quoteIdentifier(this.stageName)} (${STAGE_SEQ} integer)`);
  }

  async evolveStage(changes: StageSchemaChanges): Promise<void> {
    for (const column of changes.added) {
      const type = stageType(column.type);
      await this.run(`ALTER TABLE ${this.stageTable} ADD COLUMN ${column.stageName} ${type}`);
      this.physical.set(column.stageName, type);
    }
    for (const column of changes.retyped) {
      const type = stageType(column.type);
      if (this.physical.get(column.stageName) === type) continue;
      await this.run(
        `ALTER TABLE ${this.stageTable} ALTER COLUMN ${column.stageName} TYPE ${type} USING ${column.stageName}::${type}`,
      );
      this.physical.set(column.stageName, type);
    }
  }

  /** The hot path: one COPY per batch, its text built in chunks of rows as the socket takes them. */
  async stageRows(rows: readonly Row[], columns: readonly StageColumn[], firstSeq: number): Promise<void> {
    const names = [STAGE_SEQ, ...columns.map((column) => column.stageName)].join(', ');
    const copy = this.client.query(copyFrom(`COPY ${this.stageTable} (${names}) FROM STDIN`));
    try {
      await pipeline(Readable.from(copyChunks(rows, columns, firstSeq)), copy);
    } catch (error) {
      // A COPY cut off mid-stream may leave the connection out of step with the server.
      this.broken = true;
      throw this.cause(error);
    }
  }

  async endStaging(): Promise<void> {}

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    // A connection known to be lost before COMMIT was sent cannot have committed; one lost while COMMIT
    // was under way may have (the server can commit and then lose the connection).
    let lostBeforeCommit = false;
    const execute = (sql: string) => {
      if (sql === 'COMMIT') lostBeforeCommit = this.lost !== null;
      return this.run(sql);
    };
    return inTransaction(execute, work, {
      onRollbackFailed: () => {
        this.broken = true; // the connection's state is unknown: never hand it to another session
      },
      commitOutcomeUnknown: (error) => isConnectionLost(error) && !lostBeforeCommit,
    });
  }

  async tableColumns(schema: string, table: string): Promise<ExistingColumn[] | null> {
    return this.guard(() => readTableColumns(this.client, schema, table));
  }

  async createTable(schema: string, table: string, columns: readonly ColumnSpec[]): Promise<void> {
    const list = columns.map((column) => `${quoteIdentifier(column.name)} ${postgresType(column.type)}`);
    await this.run(`CREATE TABLE ${qualifiedName(schema, table)} (${list.join(', ')})`);
  }

  async addColumn(schema: string, table: string, column: ColumnSpec): Promise<void> {
    await this.run(
      `ALTER TABLE ${qualifiedName(schema, table)} ADD COLUMN ${quoteIdentifier(column.name)} ${postgresType(column.type)}`,
    );
  }

  async widenColumn(schema: string, table: string, column: ColumnSpec): Promise<void> {
    const name = quoteIdentifier(column.name);
    const type = postgresType(column.type);
    await this.run(
      `ALTER TABLE ${qualifiedName(schema, table)} ALTER COLUMN ${name} TYPE ${type} USING ${name}::${type}`,
    );
  }

  async moveRows(move: RowMove): Promise<LoadResult> {
    const { schema, table, mode, windowColumn } = move.target;
    const { id, window: windowStage } = move;
    const spec = (column: StageColumn) => move.resolved.get(column.name)!;
    const sql = moveSql(move, this.stageTable, {
      sqlType: postgresType,
      // Staging columns have their logical type (JSON as text); cast only where the table's differs.
      needsCast: (column, tableType) =>
        (this.physical.get(column.stageName) ?? stageType(column.type)) !== postgresType(tableType),
      safeTimestamp,
    });
    const { target, targetList, names, casts } = sql;
    const insert = async (text: string) => (await this.run(text)).rowCount ?? 0;
    const total = move.stagedRows;

    if (mode === 'replace') {
      await this.run(`DELETE FROM ${target}`);
      return { inserted: await insert(sql.insertAll), duplicatesSkipped: 0 };
    }

    const windowInTable =
      windowColumn !== null && move.tableColumns.has(foldIdentifier(windowColumn)) ? windowColumn : null;

    if ((mode === 'merge' || mode === 'snapshot') && id !== undefined && sql.merge !== null) {
      await this.ensureIndex(schema, table, spec(id).name, windowInTable);
      await this.run(sql.merge.delete);
      const inserted = await insert(sql.merge.insert);
      return { inserted, duplicatesSkipped: total - inserted };
    }

    // append
    if (windowColumn === null || id === undefined) {
      // Full loads (metrics) are appended whole every run, as the templates do.
      return { inserted: await insert(sql.insertAll), duplicatesSkipped: 0 };
    }
    await this.ensureIndex(schema, table, spec(id).name, windowInTable);
    const windowInStage = windowStage === undefined ? 'NULL' : `s.${windowStage.stageName}`;
    const windowOfTable = windowInTable === null ? 'NULL' : `t.${quoteIdentifier(windowInTable)}`;
    const partition = windowStage === undefined ? id.stageName : `${id.stageName}, ${windowStage.stageName}`;
    const inserted = await insert(
      `INSERT INTO ${target} (${targetList}) SELECT ${names} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${partition} ORDER BY ${STAGE_SEQ}) AS ki_rn FROM ${this.stageTable}) s
        WHERE (s.${id.stageName} IS NULL OR s.ki_rn = 1)
          AND NOT EXISTS (SELECT 1 FROM ${target} t WHERE t.${quoteIdentifier(spec(id).name)} = s.${id.stageName} AND ${windowOfTable} IS NOT DISTINCT FROM ${windowInStage})`,
    );
    return { inserted, duplicatesSkipped: total - inserted };
  }

  /**
   * The index the dedupe and the merge look rows up by: (id, window column), or (id). Created in the
   * commit's transaction the first time; its name is derived from the table and columns.
   */
  private async ensureIndex(schema: string, table: string, id: string, window: string | null): Promise<void> {
    const columns = window === null ? [id] : [id, window];
    const hash = createHash('sha256')
      .update(JSON.stringify([table, ...columns]))
      .digest('hex')
      .slice(0, 10);
    const name = `${table.slice(0, 40)}_ki_${window === null ? 'id' : 'idw'}_${hash}`;
    await this.run(
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(name)} ON ${qualifiedName(schema, table)} (${columns.map(quoteIdentifier).join(', ')})`,
    );
  }

  async markDeleted(
    schema: string,
    table: string,
    stagedId: string | null,
    deletedAt: string,
    scope?: DeleteScope,
  ): Promise<number> {
    const result = await this.run(markDeletedSql(schema, table, this.stageTable, stagedId, scope), [
      deletedAt,
      ...(scope?.parentIds ?? []),
    ]);
    return result.rowCount ?? 0;
  }

  async markMembers(
    schema: string,
    table: string,
    members: MemberSets,
    windowColumn: string | null,
    deletedAt: string,
  ): Promise<number> {
    const name = `${this.stageName}_members`;
    const membersTable = `pg_temp.${quoteIdentifier(name)}`;
    const pairs = memberPairs(members);
    await this.run(`CREATE TEMP TABLE ${quoteIdentifier(name)} (parent_id text, member_id text)`);
    try {
      for (let at = 0; at < pairs.parents.length; at += MEMBER_BATCH) {
        await this.run(`INSERT INTO ${membersTable} SELECT unnest($1::text[]), unnest($2::text[])`, [
          pairs.parents.slice(at, at + MEMBER_BATCH),
          pairs.members.slice(at, at + MEMBER_BATCH),
        ]);
      }
      await this.run(`ANALYZE ${membersTable}`);
      const sql = memberMarksSql(
        schema,
        table,
        membersTable,
        { parent: members.parentColumn, member: members.memberColumn, window: windowColumn },
        safeTimestamp,
      );
      const marked = await this.run(sql.mark, [deletedAt]);
      await this.run(sql.clear);
      return marked.rowCount ?? 0;
    } finally {
      await this.run(`DROP TABLE IF EXISTS ${membersTable}`);
    }
  }

  async insertLogRows(schema: string, rows: readonly IngestionLogRow[]): Promise<void> {
    await this.guard(() => insertLogRows(this.client, schema, rows));
  }

  async recordParentProgress(schema: string, table: string, progress: ParentProgress): Promise<void> {
    for (const { sql, params } of parentProgressStatements(schema, table, progress))
      await this.run(sql, [...params]);
  }

  async dropStage(): Promise<void> {
    // A TEMP table ends with its connection: when that is gone, so is the stage.
    if (this.lost !== null) return;
    try {
      await this.run(`DROP TABLE IF EXISTS ${this.stageTable}`);
    } catch (error) {
      if (this.lost === null) throw error;
    }
  }

  /** Releases the connection to the pool, or destroys it when it may be unusable. */
  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.client.release(this.broken ? new Error('load session connection discarded') : undefined);
    // The pool listens again from release on (a destroyed client may still report its closing).
    this.client.removeListener('error', this.onConnectionError);
  }
}

/** COPY text for `rows`, in chunks of COPY_CHUNK_ROWS rows. */
function* copyChunks(
  rows: readonly Row[],
  columns: readonly StageColumn[],
  firstSeq: number,
): Generator<string> {
  const count = columns.length;
  let text = '';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    text += firstSeq + r;
    for (let i = 0; i < count; i++) {
      const column = columns[i]!;
      const value = column.inherited && !Object.hasOwn(row, column.key) ? undefined : row[column.key];
      text += '\t';
      text += value === null || value === undefined ? '\\N' : copyValue(column.type, value);
    }
    text += '\n';
    if ((r + 1) % COPY_CHUNK_ROWS === 0) {
      yield text;
      text = '';
    }
  }
  if (text !== '') yield text;
}

function copyValue(type: ColumnType | null, value: unknown): string {
  switch (type) {
    case 'VARCHAR':
      return copyField(typeof value === 'string' ? value : asText(value));
    case 'BIGINT':
      return typeof value === 'bigint' ? value.toString() : BigInt(value as number).toString();
    case 'DOUBLE':
      return String(Number(value));
    case 'BOOLEAN':
      return value ? 't' : 'f';
    case 'JSON':
      return copyField(jsonbText(value));
    default:
      return '\\N';
  }
}
