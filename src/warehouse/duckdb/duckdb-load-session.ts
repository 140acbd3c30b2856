/**
 * One source load into DuckDB. Rows are appended (DuckDB appender, data chunks, flushed per batch)
 * into a TEMP staging table of this session's connection whose columns follow the records; `commit`
 * moves them into the target table together with the log rows in one transaction, so a failure or a
 * crash leaves the table and the log untouched. DuckDB keeps TEMP data in its buffer pool and spills
 * it to `<database>.tmp/` beyond its memory limit; nothing is held in JS memory between batches.
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { Row } from '../../records/row.js';
import { IngestError, ingestionError } from '../../util/errors.js';
import { Mutex } from '../../util/mutex.js';
import type { ColumnSpec, CommitLogRows, LoadResult, LoadSession, LoadTarget } from '../destination.js';
import { foldIdentifier, qualifiedName, quoteIdentifier } from '../identifiers.js';
import { toJsonText } from '../json-text.js';
import { planTableChanges } from '../schema-evolution.js';
import { type StageColumn, StageSchema, type StageSchemaChanges } from '../stage-schema.js';
import { DuckDBDataChunk } from './duckdb-api.js';
import { readTableColumns } from './duckdb-catalog.js';
import { type DuckDBMemoryCap, isOutOfMemory } from './duckdb-memory.js';
import { duckdbType } from './duckdb-types.js';
import { insertLogRows } from './ingestion-log.js';

/** The steps of a commit, in order; a fault hook can fail (or kill the process) before any of them. */
export type CommitStep = 'schema' | 'rows' | 'log' | 'drop-stage' | 'commit';

export interface CommitHooks {
  /** Called inside the commit transaction before each step. Throwing aborts the commit (tests only). */
  beforeCommitStep?: (step: CommitStep, target: LoadTarget) => void | Promise<void>;
}

/** What a session needs from its destination. */
export interface SessionHost {
  /** Serializes commits (and other writes to shared tables) across sessions. */
  readonly writeLock: Mutex;
  readonly hooks: CommitHooks;
  /** The instance's memory cap, raised for a commit that needs more (null: `:memory:`, uncapped). */
  readonly memory: DuckDBMemoryCap | null;
  sessionEnded(session: DuckDBLoadSession): void;
}

const SEQ = 'ki_seq';
const CHUNK_ROWS = 2048;

type State = 'open' | 'committing' | 'done' | 'broken';

export class DuckDBLoadSession implements LoadSession {
  private readonly schema = new StageSchema();
  /** Physical SQL type of each staging column, by stage name. */
  private readonly physical = new Map<string, string>();
  private appender: DuckDBAppender | null = null;
  /**
   * One data chunk, refilled for every batch: a chunk's memory is native and a dropped one is only
   * freed when V8 collects its wrapper, so a chunk per batch let native memory pile up between GCs.
   */
  private chunk: DuckDBDataChunk | null = null;
  private seq = 0;
  private state: State = 'open';
  private readonly writes = new Mutex();

  constructor(
    private readonly host: SessionHost,
    private readonly connection: DuckDBConnection,
    readonly target: LoadTarget,
    /** The session's TEMP staging table (`_ki_stage_<table>_<hex>`). */
    readonly stageName: string,
  ) {}

  /** Creates the staging table; the caller has validated the names and created the schema. */
  async start(): Promise<void> {
    await this.connection.run(`CREATE TEMP TABLE ${quoteIdentifier(this.stageName)} (${SEQ} INTEGER)`);
    await this.openAppender();
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
      if (changes.added.length > 0 || changes.retyped.length > 0) await this.evolveStage(changes);
      this.appendRows(rows);
    } catch (error) {
      this.state = 'broken';
      throw this.failure('staging rows failed', error);
    }
  }

  async commit(logRows: CommitLogRows): Promise<LoadResult> {
    await this.writes.run(async () => undefined); // let writes already started finish first
    this.assertOpen('commit');
    this.state = 'committing';
    try {
      this.closeAppender();
      return await this.host.writeLock.run(() => {
        const memory = this.host.memory;
        if (memory === null) return this.commitTransaction(logRows);
        const what = `${this.target.schema}.${this.target.table}: the commit of ${this.seq} staged rows was rolled back; the table and ingestion_log are unchanged`;
        return memory.withRoom(this.connection, what, () => this.commitTransaction(logRows));
      });
    } catch (error) {
      await this.dropStage().catch(() => undefined);
      throw this.failure(
        'the commit failed and was rolled back; the table and ingestion_log are unchanged',
        error,
      );
    } finally {
      this.end();
    }
  }

  async abort(): Promise<void> {
    await this.writes.run(async () => undefined);
    if (this.state === 'done' || this.state === 'committing') return;
    this.state = 'done';
    try {
      try {
        this.closeAppender();
      } catch {
        // A broken appender holds nothing we want; the stage is dropped below.
      }
      await this.dropStage();
    } finally {
      this.end();
    }
  }

  private get stageTable(): string {
    return `temp.main.${quoteIdentifier(this.stageName)}`;
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
    const detail = error instanceof Error ? error.message : String(error);
    const where = `${this.target.schema}.${this.target.table}: ${what}`;
    const memory = this.host.memory;
    if (memory !== null && isOutOfMemory(error)) {
      // DuckDB's own suggestions (threads, insertion order) are not settings of ours: keep its first line.
      return ingestionError(`${where}: ${detail.split('\n')[0]}`, {
        code: 'DESTINATION_OUT_OF_MEMORY',
        fix: memory.fix(),
        cause: error,
      });
    }
    return ingestionError(`${where}: ${detail}`, {
      code: 'DESTINATION_WRITE',
      cause: error,
    });
  }

  private closeAppender(): void {
    const appender = this.appender;
    this.appender = null;
    this.chunk = null;
    appender?.closeSync();
  }

  private async evolveStage(changes: StageSchemaChanges): Promise<void> {
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

  private async openAppender(): Promise<void> {
    const appender = await this.connection.createAppender(this.stageName, 'main', 'temp');
    // The staging table's column types, as the appender reports them (ki_seq first).
    const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
    this.chunk = DuckDBDataChunk.create(types);
    this.appender = appender;
  }

  /**
   * The hot path. Rows go in as data chunks of up to 2048 rows (DuckDB's vector size): numbers and
   * booleans are written straight into the chunk's memory, strings with one native call each, which
   * is about twice as fast as one appender call per value. One flush per batch; nothing is kept.
   */
  private appendRows(rows: readonly Row[]): void {
    const appender = this.appender!;
    const chunk = this.chunk!;
    const columns = this.schema.columns;
    const count = columns.length;
    for (let offset = 0; offset < rows.length; offset += CHUNK_ROWS) {
      const size = Math.min(CHUNK_ROWS, rows.length - offset);
      chunk.reset();
      chunk.rowCount = size;
      const seq = chunk.getColumnVector(0);
      const vectors = columns.map((_, i) => chunk.getColumnVector(i + 1));
      for (let r = 0; r < size; r++) {
        const row = rows[offset + r]!;
        seq.setItem(r, this.seq + r);
        for (let i = 0; i < count; i++) {
          const column = columns[i]!;
          const vector = vectors[i]!;
          const value = column.inherited && !Object.hasOwn(row, column.key) ? undefined : row[column.key];
          if (value === null || value === undefined) {
            vector.setItem(r, null);
            continue;
          }
          switch (column.type) {
            case 'VARCHAR':
              vector.setItem(r, typeof value === 'string' ? value : asText(value));
              break;
            case 'BIGINT':
              vector.setItem(r, typeof value === 'bigint' ? value : BigInt(value as number));
              break;
            case 'DOUBLE':
              vector.setItem(r, Number(value));
              break;
            case 'BOOLEAN':
              vector.setItem(r, value as boolean);
              break;
            case 'JSON':
              vector.setItem(r, toJsonText(value));
              break;
            default:
              vector.setItem(r, null);
          }
        }
      }
      seq.flush();
      for (const vector of vectors) vector.flush();
      appender.appendDataChunk(chunk);
      this.seq += size;
    }
    appender.flushSync();
  }

  private async commitTransaction(logRows: CommitLogRows): Promise<LoadResult> {
    const c = this.connection;
    const { schema: targetSchema, table, windowColumn } = this.target;
    const target = qualifiedName(targetSchema, table);
    const step = async (name: CommitStep) => this.host.hooks.beforeCommitStep?.(name, this.target);
    await c.run('BEGIN TRANSACTION');
    try {
      await step('schema');
      let existing = await readTableColumns(c, targetSchema, table);
      if (existing === null) {
        // The workflow creates the table first; if not, create it as the templates' setup step would.
        const base = [
          ...(windowColumn === null ? [] : [`${quoteIdentifier(windowColumn)} VARCHAR`]),
          'time BIGINT',
        ];
        await c.run(`CREATE TABLE ${target} (${base.join(', ')})`);
        existing = await readTableColumns(c, targetSchema, table);
      }
      const staged = this.schema.columns.filter((column) => column.type !== null);
      const plan = planTableChanges(existing ?? [], staged, foldIdentifier);
      for (const column of plan.add) {
        await c.run(
          `ALTER TABLE ${target} ADD COLUMN ${quoteIdentifier(column.name)} ${duckdbType(column.type)}`,
        );
      }
      for (const column of plan.alter) {
        await c.run(
          `ALTER TABLE ${target} ALTER COLUMN ${quoteIdentifier(column.name)} TYPE ${duckdbType(column.type)}`,
        );
      }

      await step('rows');
      const tableColumnNames = new Set(
        [...(existing ?? []), ...plan.add].map((column) => foldIdentifier(column.name)),
      );
      const result =
        this.seq === 0
          ? { inserted: 0, duplicatesSkipped: 0 }
          : await this.moveRows(target, staged, plan.resolved, tableColumnNames);

      await step('log');
      await insertLogRows(c, targetSchema, typeof logRows === 'function' ? logRows(result) : logRows);

      await step('drop-stage');
      await c.run(`DROP TABLE ${this.stageTable}`);

      await step('commit');
      await c.run('COMMIT');
      this.state = 'done';
      return result;
    } catch (error) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async moveRows(
    target: string,
    staged: readonly StageColumn[],
    resolved: ReadonlyMap<string, ColumnSpec>,
    tableColumns: ReadonlySet<string>,
  ): Promise<LoadResult> {
    const { mode, windowColumn } = this.target;
    const spec = (column: StageColumn) => resolved.get(column.name)!;
    const names = staged.map((column) => column.stageName).join(', ');
    const targetList = staged.map((column) => quoteIdentifier(spec(column).name)).join(', ');
    const casts = staged
      .map((column) =>
        // Staging columns already have their logical type; cast only where the table's column is wider.
        spec(column).type === column.type
          ? column.stageName
          : `CAST(${column.stageName} AS ${duckdbType(spec(column).type)}) AS ${column.stageName}`,
      )
      .join(', ');
    const find = (name: string) =>
      staged.find((column) => foldIdentifier(spec(column).name) === foldIdentifier(name));
    const id = find('id');
    const windowStage = windowColumn === null ? undefined : find(windowColumn);
    const insert = async (sql: string, params: string[] = []) =>
      Number((await this.connection.runAndReadAll(sql, params)).getRows()[0]?.[0] ?? 0);
    const total = this.seq;

    if (mode === 'replace') {
      await this.connection.run(`DELETE FROM ${target}`);
      const inserted = await insert(
        `INSERT INTO ${target} (${targetList}) SELECT ${casts} FROM ${this.stageTable}`,
      );
      return { inserted, duplicatesSkipped: 0 };
    }

    if (mode === 'merge') {
      if (id === undefined) {
        throw ingestionError(
          `${this.target.schema}.${this.target.table}: merge mode needs an 'id' in every record, and none had one`,
          { code: 'DESTINATION_MERGE_KEY', fix: "use out.mode 'append' or 'replace' for this source" },
        );
      }
      const idType = duckdbType(spec(id).type);
      await this.connection.run(
        `DELETE FROM ${target} WHERE ${quoteIdentifier(spec(id).name)} IN (SELECT CAST(${id.stageName} AS ${idType}) FROM ${this.stageTable} WHERE ${id.stageName} IS NOT NULL)`,
      );
      const newest =
        windowStage === undefined
          ? ''
          : `TRY_CAST(trim(CAST(${windowStage.stageName} AS VARCHAR)) AS TIMESTAMPTZ) DESC NULLS LAST, `;
      const inserted = await insert(
        `INSERT INTO ${target} (${targetList}) SELECT ${names} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName} ORDER BY ${newest}${SEQ} DESC) AS ki_rn FROM ${this.stageTable}) s WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`,
      );
      return { inserted, duplicatesSkipped: total - inserted };
    }

    // append
    if (windowColumn === null || id === undefined) {
      // Full loads (metrics) are appended whole every run, as the templates do.
      const inserted = await insert(
        `INSERT INTO ${target} (${targetList}) SELECT ${casts} FROM ${this.stageTable}`,
      );
      return { inserted, duplicatesSkipped: 0 };
    }
    const windowInStage = windowStage === undefined ? 'NULL' : `s.${windowStage.stageName}`;
    const windowInTable = tableColumns.has(foldIdentifier(windowColumn))
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
      `INSERT INTO ${target} (${targetList}) SELECT ${names} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName}, ${windowStage?.stageName ?? 'NULL'} ORDER BY ${SEQ}) AS ki_rn FROM ${this.stageTable}) s ANTI JOIN (${existing}) e ON e.ki_id = s.${id.stageName} AND e.ki_w IS NOT DISTINCT FROM ${windowInStage} WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`,
      params,
    );
    return { inserted, duplicatesSkipped: total - inserted };
  }

  private async dropStage(): Promise<void> {
    await this.connection.run(`DROP TABLE IF EXISTS ${this.stageTable}`);
  }

  private end(): void {
    if (this.state === 'committing' || this.state === 'open') this.state = 'done';
    try {
      this.connection.closeSync();
    } catch {
      // Already closed.
    }
    this.host.sessionEnded(this);
  }
}

function asText(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return toJsonText(value);
  }
}
