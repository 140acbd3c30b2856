/**
 * The Parquet dataset destination (`--destination parquet:DIR`): each table a folder of
 * Hive-partitioned Parquet files that Spark, Trino/Athena, BigQuery, Snowflake and DuckDB read, with
 * manifests that make each load's commit atomic for readers that follow them (parquet-commits.ts).
 *
 * An in-memory DuckDB stages rows, dedupes and writes the files (its Parquet writer); one run holds a
 * schema's lock file while it loads it, and this process's commits run one at a time. `query()` reads
 * the committed datasets through views over the files the manifests list.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { ingestionError } from '../../util/errors.js';
import { Mutex } from '../../util/mutex.js';
import type {
  ColumnSpec,
  Destination,
  IngestionLogRow,
  LoadTarget,
  TableStatus,
  UnfinishedLoad,
} from '../destination.js';
import { DuckDBInstance } from '../duckdb/duckdb-api.js';
import { ingestInstanceSettings } from '../duckdb/duckdb-instances.js';
import { DuckDBMemoryCap, type MemoryPolicy, memoryPolicyFromEnv } from '../duckdb/duckdb-memory.js';
import { startSessionOn } from '../duckdb/duckdb-staging.js';
import { safeTimestamp } from '../duckdb/duckdb-types.js';
import { readTableStatusOf } from '../duckdb/table-status.js';
import { foldIdentifier, quoteIdentifier, validateIdentifier, validateLoadTarget } from '../identifiers.js';
import {
  INGESTION_LOG_TABLE,
  LOG_COLUMNS,
  logRowValues,
  toUnfinishedLoads,
  unfinishedLoadsSql,
} from '../ingestion-log.js';
import { PARENT_CURSOR_TABLE } from '../parent-cursors.js';
import { newStageName } from '../stage-names.js';
import { type CommitHooks, type SessionHost, StagedLoadSession } from '../staged-load.js';
import {
  type CommitHooksParquet,
  committedSeq,
  type DatasetCommit,
  manifestAt,
  publishCommit,
  readSnapshot,
  recoverSchema,
} from './parquet-commits.js';
import {
  datasetDir,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestFile,
  schemaDir,
  stagingDir,
} from './parquet-layout.js';
import { heldByAnotherRun, SchemaLock } from './parquet-lock.js';
import { parentProgressCommit } from './parquet-parents.js';
import { absoluteFiles, filesSelect, fileType, sqlText, writePartitioned } from './parquet-sql.js';
import { filesAfter, type ParquetCommitter, ParquetStaging, type PendingCommit } from './parquet-staging.js';
import { createDatasetViews, schemaNames } from './parquet-views.js';

/** What `compact` did to one table. */
export interface CompactionResult {
  table: string;
  /** Files merged (those of partitions with more than one file). */
  filesBefore: number;
  /** Files they became (one per partition). */
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
}

/** How long a run waits for another run's lock on a schema before failing (as PostgreSQL's). */
const DEFAULT_LOCK_WAIT_MS = 10_000;

export interface ParquetDestinationOptions {
  /** Fault injection for tests of atomicity; never set in production. */
  hooks?: CommitHooks & CommitHooksParquet;
  lockWaitMs?: number;
  memory?: MemoryPolicy;
}

export async function openParquetDestination(
  root: string,
  options: ParquetDestinationOptions = {},
): Promise<ParquetDestination> {
  const folder = path.resolve(root);
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw ingestionError(`cannot create the dataset folder ${folder}`, {
      code: 'DESTINATION_OPEN',
      fix: 'check the --destination path and its permissions',
      cause: error,
    });
  }
  const memory = new DuckDBMemoryCap(options.memory ?? memoryPolicyFromEnv());
  // Spills go to a hidden folder of the dataset (every engine ignores `.` names).
  const instance = await DuckDBInstance.create(':memory:', {
    ...ingestInstanceSettings(),
    memory_limit: `${memory.bytes}B`,
    temp_directory: path.join(folder, '.ki_tmp'),
  });
  const admin = await connect(instance);
  return new ParquetDestination(folder, instance, admin, memory, options);
}

async function connect(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return connection;
}

export class ParquetDestination implements Destination, ParquetCommitter {
  readonly description: string;
  readonly hooks: CommitHooks & CommitHooksParquet;
  /** This process's commits, one at a time (another process is kept out by the schema lock). */
  private readonly commitLock = new Mutex();
  private readonly adminLock = new Mutex();
  private readonly locks = new Map<string, Promise<SchemaLock>>();
  private readonly sessions = new Set<StagedLoadSession>();
  private readonly lockWaitMs: number;
  /** Schemas whose views the admin connection has. */
  private readonly viewSchemas = new Set<string>();
  private closed = false;

  constructor(
    readonly root: string,
    private readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    private readonly memory: DuckDBMemoryCap,
    options: ParquetDestinationOptions,
  ) {
    this.description = `parquet:${root}`;
    this.hooks = options.hooks ?? {};
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  outsideCommits<T>(work: () => Promise<T>): Promise<T> {
    return this.commitLock.run(work);
  }

  folder(schema: string, table: string): string {
    return datasetDir(this.root, schema, table);
  }

  async ensureSchema(schema: string): Promise<void> {
    validateIdentifier(schema, 'schema name');
    await mkdir(schemaDir(this.root, schema), { recursive: true });
  }

  async createTableIfMissing(schema: string, table: string, columns: ColumnSpec[]): Promise<void> {
    validateIdentifier(schema, 'schema name');
    validateIdentifier(table, 'table name');
    if (columns.length === 0)
      throw new Error(`createTableIfMissing(${schema}.${table}) needs at least one column`);
    await this.lockSchema(schema);
    await this.commitLock.run(async () => {
      await recoverSchema(this.root, schema);
      const seq = (await committedSeq(this.root, schema)) + 1;
      if ((await manifestAt(this.root, schema, table, seq - 1)) !== null) return;
      const manifest = this.manifest(seq, table, null, columns, []);
      await publishCommit(
        this.root,
        schema,
        [{ manifest, added: [], removed: [] }],
        await this.logCommit(schema, seq, []),
        this.hooks,
      );
    });
  }

  async maxTimestamp(schema: string, table: string, column: string): Promise<number | null> {
    validateIdentifier(schema, 'schema name');
    validateIdentifier(table, 'table name');
    const manifest = (await readSnapshot(this.root, schema)).datasets.get(table);
    const found = manifest?.columns.find(
      (existing) => foldIdentifier(existing.name) === foldIdentifier(column),
    );
    if (manifest === undefined || found === undefined || manifest.files.length === 0) return null;
    if (manifest.windowColumn !== null && foldIdentifier(manifest.windowColumn) === foldIdentifier(column)) {
      // Each file's maximum is in the manifest: no file is read.
      const maxima = manifest.files.map((file) => file.windowMaxMs).filter((ms): ms is number => ms !== null);
      return maxima.length === 0 ? null : Math.max(...maxima);
    }
    const files = absoluteFiles(this.folder(schema, table), manifest.files);
    const rows = await this.read((c) =>
      c.runAndReadAll(
        `SELECT epoch_ms(max(${safeTimestamp(quoteIdentifier(found.name))})) FROM (${filesSelect(files, manifest.columns, fileType)})`,
      ),
    );
    const value = rows.getRows()[0]?.[0];
    return value === null || value === undefined ? null : Number(value);
  }

  async appendLog(schema: string, rows: IngestionLogRow[]): Promise<void> {
    validateIdentifier(schema, 'schema name');
    await this.lockSchema(schema);
    await this.commitLock.run(async () => {
      await recoverSchema(this.root, schema);
      const seq = (await committedSeq(this.root, schema)) + 1;
      await publishCommit(this.root, schema, [], await this.logCommit(schema, seq, rows), this.hooks);
    });
  }

  async openLoad(target: LoadTarget): Promise<StagedLoadSession> {
    this.assertOpen();
    validateLoadTarget(target);
    await this.ensureSchema(target.schema);
    await this.lockSchema(target.schema);
    const connection = await connect(this.instance);
    const stageName = newStageName(target.table);
    const session = new StagedLoadSession(
      this.sessionHost(connection),
      new ParquetStaging(connection, stageName, target, this),
      target,
      stageName,
    );
    await startSessionOn(connection, session, target);
    this.sessions.add(session);
    return session;
  }

  // ParquetCommitter: the commits of load sessions (under commitLock, see sessionHost).

  async begin(target: LoadTarget): Promise<PendingCommit> {
    const { schema, table } = target;
    await recoverSchema(this.root, schema);
    const seq = (await committedSeq(this.root, schema)) + 1;
    const committed = await manifestAt(this.root, schema, table, seq - 1);
    return {
      seq,
      committed,
      columns: committed === null ? null : committed.columns.map((column) => ({ ...column })),
      changed: false,
      written: [],
      removed: new Set(),
      logRows: [],
      parents: null,
      stagingFolder: path.join(stagingDir(this.root, schema), String(seq)),
    };
  }

  async publish(target: LoadTarget, commit: PendingCommit): Promise<void> {
    const { schema, table } = target;
    const tables: DatasetCommit[] = [];
    if (commit.changed && commit.columns !== null) {
      const windowColumn = commit.committed?.windowColumn ?? target.windowColumn;
      tables.push({
        manifest: this.manifest(commit.seq, table, windowColumn, commit.columns, filesAfter(commit)),
        added: commit.written.map(({ staged, file }) => ({ staged, path: file.path })),
        removed: [...commit.removed],
      });
    }
    if (commit.parents !== null) tables.push(await this.parentsCommit(schema, table, commit));
    await publishCommit(
      this.root,
      schema,
      tables,
      await this.logCommit(schema, commit.seq, commit.logRows),
      this.hooks,
    );
  }

  async discard(target: LoadTarget, commit: PendingCommit): Promise<void> {
    await rm(commit.stagingFolder, { recursive: true, force: true });
    void target;
  }

  /** The `ingestion_parents` part of a child collection's commit. */
  private async parentsCommit(schema: string, table: string, commit: PendingCommit): Promise<DatasetCommit> {
    const c = await connect(this.instance);
    try {
      return await parentProgressCommit(c, {
        root: this.root,
        schema,
        seq: commit.seq,
        table,
        progress: commit.parents!,
        committed: await manifestAt(this.root, schema, PARENT_CURSOR_TABLE, commit.seq - 1),
        stagingFolder: commit.stagingFolder,
      });
    } finally {
      c.closeSync();
    }
  }

  /** The ingestion log's part of commit `seq`: its files plus one written for `rows`. */
  private async logCommit(
    schema: string,
    seq: number,
    rows: readonly IngestionLogRow[],
  ): Promise<DatasetCommit> {
    const committed = await manifestAt(this.root, schema, INGESTION_LOG_TABLE, seq - 1);
    const written = rows.length === 0 ? [] : await this.writeLogRows(schema, seq, rows);
    const files = [...(committed?.files ?? []), ...written.map((w) => w.file)];
    return {
      manifest: this.manifest(
        seq,
        INGESTION_LOG_TABLE,
        null,
        LOG_COLUMNS.map(({ name, type }) => ({ name, type })),
        files,
      ),
      added: written.map(({ staged, file }) => ({ staged, path: file.path })),
      removed: [],
    };
  }

  /** Log rows as Parquet files under the commit's staging folder, partitioned by the rows' date. */
  private async writeLogRows(schema: string, seq: number, rows: readonly IngestionLogRow[]) {
    const c = await connect(this.instance);
    try {
      const table = 'temp.main.ki_log_rows';
      await c.run(
        `CREATE OR REPLACE TEMP TABLE ki_log_rows (${LOG_COLUMNS.map(({ name, type }) => `${quoteIdentifier(name)} ${fileType(type)}`).join(', ')})`,
      );
      const statement = await c.prepare(
        `INSERT INTO ${table} VALUES (${LOG_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      );
      try {
        for (const row of rows) {
          statement.bind(logRowValues(row));
          await statement.run();
        }
      } finally {
        statement.destroySync();
      }
      return await writePartitioned(c, {
        select: `SELECT * FROM ${table}`,
        partition: `strftime(CAST(to_timestamp("time") AS TIMESTAMP), '%Y-%m-%d')`,
        folder: path.join(stagingDir(this.root, schema), String(seq), INGESTION_LOG_TABLE),
        seq,
        columns: LOG_COLUMNS.length,
        windowColumn: null,
      });
    } finally {
      c.closeSync();
    }
  }

  private manifest(
    seq: number,
    table: string,
    windowColumn: string | null,
    columns: readonly ColumnSpec[],
    files: Manifest['files'],
  ): Manifest {
    return {
      format: MANIFEST_FORMAT,
      seq,
      table,
      windowColumn,
      columns: columns.map(({ name, type }) => ({ name, type })),
      files,
      committedAt: new Date().toISOString(),
    };
  }

  /**
   * Merges each partition's files into one, for every table of `schema` (or only `tables`): hourly
   * incremental runs leave a small file per partition per run. One copy-on-write commit per table;
   * readers see the table before or after it, never both.
   */
  async compact(schema: string, tables?: readonly string[]): Promise<CompactionResult[]> {
    validateIdentifier(schema, 'schema name');
    const snapshot = await readSnapshot(this.root, schema);
    const names = (tables ?? [...snapshot.datasets.keys()]).map((t) => validateIdentifier(t, 'table name'));
    const results: CompactionResult[] = [];
    for (const table of names) {
      const result = await this.rewrite(
        schema,
        table,
        async (manifest) => {
          const byPartition = new Map<string, ManifestFile[]>();
          for (const file of manifest.files)
            byPartition.set(file.partition, [...(byPartition.get(file.partition) ?? []), file]);
          return [...byPartition.values()].filter((files) => files.length > 1).flat();
        },
        null,
      );
      results.push({ table, ...result });
    }
    return results;
  }

  /**
   * Deletes the rows of `schema.table` for which `predicate` (DuckDB SQL over the table's columns; it
   * may read `<schema>.<table>` views) is true: the files holding such rows are rewritten without
   * them in one commit (a profile's data on request, a bad load). Returns the rows deleted.
   */
  async deleteWhere(schema: string, table: string, predicate: string): Promise<number> {
    validateIdentifier(schema, 'schema name');
    validateIdentifier(table, 'table name');
    const result = await this.rewrite(
      schema,
      table,
      async (manifest) => {
        const files = absoluteFiles(this.folder(schema, table), manifest.files);
        if (files.length === 0) return [];
        const hit = await this.read(async (c) => {
          await this.refreshViews(c);
          return c.runAndReadAll(
            `SELECT DISTINCT ki_file FROM (SELECT *, filename AS ki_file FROM read_parquet([${files.map((f) => sqlText(f.absolute)).join(', ')}], filename = true, union_by_name = true, hive_partitioning = false)) WHERE ${predicate}`,
          );
        });
        const paths = new Set(hit.getRows().map(([file]) => String(file)));
        return files.filter((file) => paths.has(file.absolute));
      },
      predicate,
    );
    return result.rowsBefore - result.rowsAfter;
  }

  /**
   * One commit rewriting `pick`'s files of a table: their rows (without those `drop` matches) become
   * one file per partition, and the picked files leave the manifest.
   */
  private async rewrite(
    schema: string,
    table: string,
    pick: (manifest: Manifest) => Promise<ManifestFile[]>,
    drop: string | null,
  ): Promise<Omit<CompactionResult, 'table'>> {
    await this.lockSchema(schema);
    return this.commitLock.run(async () => {
      await recoverSchema(this.root, schema);
      const seq = (await committedSeq(this.root, schema)) + 1;
      const manifest = await manifestAt(this.root, schema, table, seq - 1);
      const picked = manifest === null ? [] : await pick(manifest);
      const rowsBefore = picked.reduce((n, file) => n + file.rows, 0);
      if (manifest === null || picked.length === 0)
        return { filesBefore: 0, filesAfter: 0, rowsBefore: 0, rowsAfter: 0 };
      const folder = this.folder(schema, table);
      const staging = path.join(stagingDir(this.root, schema), String(seq), table);
      const partitions = [...new Set(picked.map((file) => file.partition))];
      const written: Awaited<ReturnType<typeof writePartitioned>> = [];
      const c = await connect(this.instance);
      try {
        if (drop !== null) await this.refreshViews(c);
        for (const [i, partition] of partitions.entries()) {
          const files = absoluteFiles(
            folder,
            picked.filter((file) => file.partition === partition),
          );
          const rows = filesSelect(files, manifest.columns, fileType);
          written.push(
            ...(await writePartitioned(c, {
              select: drop === null ? rows : `SELECT * FROM (${rows}) WHERE NOT coalesce((${drop}), false)`,
              partition: sqlText(partition),
              folder: path.join(staging, String(i)),
              seq,
              columns: manifest.columns.length,
              windowColumn: manifest.windowColumn,
            })),
          );
        }
      } finally {
        c.closeSync();
      }
      const removed = new Set(picked.map((file) => file.path));
      const files = [
        ...manifest.files.filter((file) => !removed.has(file.path)),
        ...written.map((w) => w.file),
      ];
      await publishCommit(
        this.root,
        schema,
        [
          {
            manifest: this.manifest(seq, table, manifest.windowColumn, manifest.columns, files),
            added: written.map(({ staged, file }) => ({ staged, path: file.path })),
            removed: [...removed],
          },
        ],
        await this.logCommit(schema, seq, []),
        this.hooks,
      );
      return {
        filesBefore: picked.length,
        filesAfter: written.length,
        rowsBefore,
        rowsAfter: written.reduce((n, w) => n + w.file.rows, 0),
      };
    });
  }

  /** Takes this run's lock on a schema once (held until close); repairs what a killed run left. */
  private lockSchema(schema: string): Promise<SchemaLock> {
    this.assertOpen();
    let lock = this.locks.get(schema);
    if (lock === undefined) {
      lock = (async () => {
        const taken = await SchemaLock.acquire(
          schemaDir(this.root, schema),
          `schema ${schema} of ${this.description}`,
          this.lockWaitMs,
        );
        await this.commitLock.run(() => recoverSchema(this.root, schema));
        return taken;
      })();
      lock.catch(() => this.locks.delete(schema));
      this.locks.set(schema, lock);
    }
    return lock;
  }

  async tableStatus(schema: string): Promise<TableStatus[]> {
    validateIdentifier(schema, 'schema name');
    const snapshot = await readSnapshot(this.root, schema);
    const tables = new Set(snapshot.datasets.keys());
    return this.read(async (c) => {
      await this.refreshViews(c);
      return readTableStatusOf(c, schema, tables, async (table) =>
        (snapshot.datasets.get(table)?.files ?? []).reduce((n, file) => n + file.rows, 0),
      );
    });
  }

  /** Tables whose newest log row is STARTED, unless another run holds the schema's lock (loading it now). */
  async unfinishedLoads(schema: string): Promise<UnfinishedLoad[]> {
    validateIdentifier(schema, 'schema name');
    if (await heldByAnotherRun(schemaDir(this.root, schema))) return [];
    if ((await this.tableColumns(schema, INGESTION_LOG_TABLE)) === null) return [];
    return toUnfinishedLoads(
      await this.query(
        unfinishedLoadsSql(`${quoteIdentifier(schema)}.${quoteIdentifier(INGESTION_LOG_TABLE)}`),
      ),
    );
  }

  async tableColumns(schema: string, table: string): Promise<ColumnSpec[] | null> {
    validateIdentifier(schema, 'schema name');
    validateIdentifier(table, 'table name');
    const manifest = (await readSnapshot(this.root, schema)).datasets.get(table);
    return manifest?.columns.map(({ name, type }) => ({ name, type })) ?? null;
  }

  /**
   * A read in DuckDB's SQL over the committed datasets: each `<schema>.<table>` is a view of the files
   * its newest committed manifest lists. A read that lost a file to a commit that just replaced it
   * is run again on the new commit.
   */
  async query(sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    return this.read(async (c) => {
      for (let attempt = 1; ; attempt++) {
        await this.refreshViews(c);
        try {
          return (await c.runAndReadAll(sql, params)).getRowObjectsJS();
        } catch (error) {
          if (attempt >= 5 || !/No files found|No such file|Cannot open file/i.test(String(error)))
            throw error;
        }
      }
    });
  }

  /** The views of every schema folder, as committed now. */
  private async refreshViews(c: DuckDBConnection): Promise<void> {
    const schemas = await schemaNames(this.root);
    for (const gone of [...this.viewSchemas].filter((schema) => !schemas.includes(schema))) {
      await c.run(`DROP SCHEMA IF EXISTS ${quoteIdentifier(gone)} CASCADE`);
      this.viewSchemas.delete(gone);
    }
    for (const schema of schemas) {
      await createDatasetViews(c, this.root, schema);
      this.viewSchemas.add(schema);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions]) await session.abort().catch(() => undefined);
    await this.commitLock.run(async () => undefined);
    for (const lock of this.locks.values())
      await (await lock.catch(() => null))?.release().catch(() => undefined);
    await this.adminLock.run(async () => this.admin.closeSync());
    this.instance.closeSync();
  }

  private sessionHost(connection: DuckDBConnection): SessionHost {
    const memory = this.memory;
    return {
      hooks: this.hooks,
      runCommit: (what, commit) => this.commitLock.run(() => memory.withRoom(connection, what, commit)),
      describeFailure: (where, error) => memory.describeFailure(where, error),
      sessionEnded: (session) => this.sessions.delete(session),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.description} is closed`);
  }

  private read<T>(action: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.adminLock.run(() => action(this.admin));
  }
}
