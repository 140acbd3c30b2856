/**
 * The DuckDB destination: one shared DuckDBInstance per file, an admin connection for setup and
 * reads, one connection per load session. Commits are serialized (one write transaction at a time),
 * which keeps DuckDB clear of catalog write conflicts while sessions stage in parallel.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { Mutex } from '../../util/mutex.js';
import type {
  ColumnSpec,
  Destination,
  IngestionLogRow,
  LoadTarget,
  TableStatus,
  UnfinishedLoad,
} from '../destination.js';
import {
  foldIdentifier,
  qualifiedName,
  quoteIdentifier,
  validateIdentifier,
  validateLoadTarget,
} from '../identifiers.js';
import { INGESTION_LOG_TABLE, toUnfinishedLoads, unfinishedLoadsSql } from '../ingestion-log.js';
import { newStageName, STAGE_PREFIX, stageTarget } from '../stage-names.js';
import { type CommitHooks, type SessionHost, StagedLoadSession } from '../staged-load.js';
import { inTransaction } from '../transaction.js';
import { listTables, readTableColumns } from './duckdb-catalog.js';
import { acquireInstance, type InstanceLease, MEMORY_PATH } from './duckdb-instances.js';
import type { DuckDBMemoryCap, MemoryPolicy } from './duckdb-memory.js';
import { DuckDBStaging, startSessionOn } from './duckdb-staging.js';
import { duckdbType, safeTimestamp } from './duckdb-types.js';
import { insertLogRows } from './ingestion-log.js';
import { readTableStatus } from './table-status.js';

export interface DuckDBDestinationOptions {
  /** Fault injection for tests of atomicity; never set in production. */
  hooks?: CommitHooks;
  /** DuckDB's memory cap when this opens the file (default: `memoryPolicyFromEnv()`). */
  memory?: MemoryPolicy;
}

/** Opens (creating when missing) the DuckDB database at `path` (a file path or `:memory:`). */
export async function openDuckDBDestination(
  path: string,
  options: DuckDBDestinationOptions = {},
): Promise<DuckDBDestination> {
  const lease = await acquireInstance(path, options.memory);
  try {
    const admin = await connect(lease);
    return new DuckDBDestination(lease, admin, options.hooks ?? {});
  } catch (error) {
    lease.release();
    throw error;
  }
}

async function connect(lease: InstanceLease): Promise<DuckDBConnection> {
  const connection = await lease.instance.connect();
  // Naive timestamps are UTC (the workflows' `timezone: UTC`), whatever the machine's zone.
  await connection.run("SET TimeZone = 'UTC'");
  return connection;
}

export class DuckDBDestination implements Destination {
  readonly description: string;
  readonly writeLock = new Mutex();
  private readonly adminLock = new Mutex();
  private readonly sessions = new Set<StagedLoadSession>();
  /**
   * Targets whose schema exists and whose stale stages are gone. Done once per target: both take the
   * write lock, and a checkpointed load opens a session per slice while commits hold that lock.
   */
  private readonly preparedTargets = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly lease: InstanceLease,
    private readonly admin: DuckDBConnection,
    readonly hooks: CommitHooks,
  ) {
    this.description = `duckdb:${lease.path}`;
  }

  get memory(): DuckDBMemoryCap | null {
    return this.lease.memory;
  }

  /** The database file (resolved) or `:memory:`. */
  get path(): string {
    return this.lease.path;
  }

  get isMemory(): boolean {
    return this.lease.path === MEMORY_PATH;
  }

  async ensureSchema(schema: string): Promise<void> {
    validateIdentifier(schema, 'schema name');
    await this.write((c) => c.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`));
  }

  async createTableIfMissing(schema: string, table: string, columns: ColumnSpec[]): Promise<void> {
    const name = qualifiedName(schema, table);
    if (columns.length === 0)
      throw new Error(`createTableIfMissing(${schema}.${table}) needs at least one column`);
    const list = columns
      .map((column) => `${quoteIdentifier(column.name)} ${duckdbType(column.type)}`)
      .join(', ');
    await this.write((c) => c.run(`CREATE TABLE IF NOT EXISTS ${name} (${list})`));
  }

  async maxTimestamp(schema: string, table: string, column: string): Promise<number | null> {
    const name = qualifiedName(schema, table);
    return this.read(async (c) => {
      const columns = await readTableColumns(c, schema, table);
      const found = columns?.find((existing) => foldIdentifier(existing.name) === foldIdentifier(column));
      if (found === undefined) return null;
      // Reads ISO 8601 with `T` or space, fractions, `Z`/offsets/`UTC`, bare dates; naive values are
      // read in the session zone, which is UTC. Anything else (`infinity` too) is NULL and ignored.
      const reader = await c.runAndReadAll(
        `SELECT epoch_ms(max(${safeTimestamp(quoteIdentifier(found.name))})) FROM ${name}`,
      );
      const value = reader.getRows()[0]?.[0];
      return value === null || value === undefined ? null : Number(value);
    });
  }

  async appendLog(schema: string, rows: IngestionLogRow[]): Promise<void> {
    validateIdentifier(schema, 'schema name');
    await this.write((c) =>
      inTransaction(
        (sql) => c.run(sql),
        () => insertLogRows(c, schema, rows),
      ),
    );
  }

  async openLoad(target: LoadTarget): Promise<StagedLoadSession> {
    this.assertOpen();
    validateLoadTarget(target);
    await this.prepareTarget(target);
    const connection = await connect(this.lease);
    const stageName = newStageName(target.table);
    const session = new StagedLoadSession(
      this.sessionHost(connection),
      new DuckDBStaging(connection, stageName),
      target,
      stageName,
    );
    await startSessionOn(connection, session, target);
    this.sessions.add(session);
    return session;
  }

  private prepareTarget(target: LoadTarget): Promise<void> {
    const key = `${target.schema}\u0000${target.table}`;
    let prepared = this.preparedTargets.get(key);
    if (prepared === undefined) {
      prepared = (async () => {
        await this.ensureSchema(target.schema);
        await this.cleanupStaleStages(target.schema, target.table);
      })();
      prepared.catch(() => this.preparedTargets.delete(key));
      this.preparedTargets.set(key, prepared);
    }
    return prepared;
  }

  /**
   * Drops staging tables left by killed runs in `schema` (only those of `table` when given), never
   * those of sessions open in this process. Returns the number dropped.
   */
  async cleanupStaleStages(schema: string, table?: string): Promise<number> {
    validateIdentifier(schema, 'schema name');
    const active = new Set([...this.sessions].map((session) => session.stageName));
    return this.write(async (c) => {
      const stale = (await listTables(c, schema, STAGE_PREFIX)).filter((name) => {
        const owner = stageTarget(name);
        return owner !== null && (table === undefined || owner === table) && !active.has(name);
      });
      for (const name of stale)
        await c.run(`DROP TABLE IF EXISTS ${quoteIdentifier(schema)}.${quoteIdentifier(name)}`);
      return stale.length;
    });
  }

  async tableStatus(schema: string): Promise<TableStatus[]> {
    validateIdentifier(schema, 'schema name');
    return this.read((c) => readTableStatus(c, schema));
  }

  /** This process holds the file, so no other run can be loading it: every STARTED-last table is unfinished. */
  async unfinishedLoads(schema: string): Promise<UnfinishedLoad[]> {
    validateIdentifier(schema, 'schema name');
    if ((await this.tableColumns(schema, INGESTION_LOG_TABLE)) === null) return [];
    return toUnfinishedLoads(
      await this.query(unfinishedLoadsSql(qualifiedName(schema, INGESTION_LOG_TABLE))),
    );
  }

  /** The table's columns with their logical types, or null when it does not exist. */
  async tableColumns(schema: string, table: string): Promise<ColumnSpec[] | null> {
    validateIdentifier(schema, 'schema name');
    validateIdentifier(table, 'table name');
    const columns = await this.read((c) => readTableColumns(c, schema, table));
    return columns?.map(({ name, type }) => ({ name, type })) ?? null;
  }

  /**
   * Runs a read query on the admin connection and returns its rows as objects (status displays,
   * tests). Values go in `params`, never in `sql`.
   */
  async query(sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    return this.read(async (c) => (await c.runAndReadAll(sql, params)).getRowObjectsJS());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions]) await session.abort().catch(() => undefined);
    await this.writeLock.run(async () => undefined); // a commit in flight finishes first
    await this.adminLock.run(async () => this.admin.closeSync());
    this.lease.release();
  }

  /**
   * Commits take the write lock (one write transaction at a time); one that runs out of memory is
   * retried with DuckDB's cap raised, through the session's own connection.
   */
  private sessionHost(connection: DuckDBConnection): SessionHost {
    const memory = this.lease.memory;
    return {
      hooks: this.hooks,
      runCommit: (what, commit) =>
        this.writeLock.run(() => (memory === null ? commit() : memory.withRoom(connection, what, commit))),
      describeFailure: (where, error) => memory?.describeFailure(where, error) ?? null,
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

  private write<T>(action: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.writeLock.run(() => this.adminLock.run(() => action(this.admin)));
  }
}
