/**
 * The destination contract (src/warehouse/destination.ts, the protocol in staged-load.ts), stated once
 * and run for every destination. Each test gets a new destination and its own schema, dropped after.
 *
 * A destination joins by adding a factory to DESTINATIONS. Where destinations legitimately differ
 * (documented in docs/ARCHITECTURE.md), the factory carries the expected value with the reason; the
 * assertions themselves are the same for all. What only one destination does (URLs, locks, memory,
 * TEMP stage cleanup, foreign column types) stays in its own test file.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import { IngestError } from '../../src/util/errors.js';
import { RawJson } from '../../src/util/raw-json.js';
import type {
  ColumnType,
  Destination,
  LoadSession,
  LoadTarget,
  WriteMode,
} from '../../src/warehouse/destination.js';
import { openDuckDBDestination } from '../../src/warehouse/duckdb/duckdb-destination.js';
import {
  openParquetDestination,
  type ParquetDestination,
} from '../../src/warehouse/parquet/parquet-destination.js';
import { openPostgresDestination } from '../../src/warehouse/postgres/postgres-destination.js';
import { type CommitHooks, type CommitStep, StagedLoadSession } from '../../src/warehouse/staged-load.js';
import { type DestinationKind, loadBatches, loadTarget, logRow } from '../support/destination.js';
import { postgresUrl } from '../support/postgres.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

type Param = string | number | bigint | boolean | null;

interface DestinationFactory {
  name: DestinationKind;
  /** A new destination (its own connections) with the given commit hooks. */
  open(hooks: CommitHooks): Promise<Destination>;
  /**
   * Names of the staging tables the destination's own catalog shows: those in `schema`, and the TEMP
   * ones it can see. Destination-specific SQL: each asks its own catalog.
   */
  stageTables(dest: Destination, schema: string): Promise<string[]>;
  /** Whether `stageTables` sees the TEMP stage of a session still open (on another connection). */
  seesOpenStages: boolean;
  /**
   * Makes the ingestion log refuse a log row whose log_id is `refused`, so a commit fails at its
   * last write: SQL destinations get a CHECK constraint on the log table; the Parquet destination
   * fails the rename of the commit's log file (its table files are renamed in by then).
   */
  refuseLogRow(dest: Destination, schema: string): Promise<void>;
  /** The error text of that refusal. */
  checkViolation: RegExp;
  /** How `nul\u0000inside` in a text column reads back. */
  nulText: string;
  /** How `{ nul: 'z\u0000', lone: '\ud800' }` in a JSON column reads back (parsed). */
  nulJson: { nul: string; lone: string };
  /** A DOUBLE column's `1` after the column is widened to text. */
  doubleOneAsText: string;
  /** A JSON column's `{"a":1}` after the column is widened to text (in a later load). */
  jsonObjectAsText: string;
}

const dir = tempDir('ki-contract-');
afterAll(cleanupTempDirs);
let files = 0;

/** The first column of a catalog query taking the schema as `$1`. */
const namesOf =
  (sql: string) =>
  async (dest: Destination, schema: string): Promise<string[]> =>
    (await dest.query(sql, [schema])).map((row) => String(Object.values(row)[0]));

/** A log table that refuses one log_id, holding the rows of the old one (in SQL both run). */
async function refuseWithCheck(dest: Destination, S: string): Promise<void> {
  const columns = (await dest.tableColumns(S, 'ingestion_log'))!.map(
    (c) =>
      `${c.name} ${c.type === 'DOUBLE' ? 'FLOAT8' : c.type}${c.name === 'log_id' ? " CHECK (log_id <> 'refused')" : ''}`,
  );
  await dest.query(`CREATE TABLE ${S}.strict_log (${columns.join(', ')})`);
  await dest.query(`INSERT INTO ${S}.strict_log SELECT * FROM ${S}.ingestion_log`);
  await dest.query(`DROP TABLE ${S}.ingestion_log`);
  await dest.query(`ALTER TABLE ${S}.strict_log RENAME TO ingestion_log`);
}

/** Parquet destinations whose next commit's log file fails to be renamed into place. */
const refusingLog = new WeakSet<Destination>();

const DESTINATIONS: DestinationFactory[] = [
  {
    name: 'duckdb',
    open: (hooks) => openDuckDBDestination(join(dir, `db${files++}.duckdb`), { hooks }),
    stageTables: namesOf(
      "SELECT table_name FROM information_schema.tables WHERE (table_schema = $1 OR table_catalog = 'temp') AND starts_with(table_name, '_ki_stage_') ORDER BY 1",
    ),
    // A DuckDB TEMP table is visible only on its own connection (the session's), not on the
    // destination's admin connection; it is gone when the session's connection closes.
    seesOpenStages: false,
    refuseLogRow: refuseWithCheck,
    checkViolation: /CHECK constraint failed/,
    nulText: 'nul\u0000inside',
    nulJson: { nul: 'z\u0000', lone: '\ud800' },
    // DuckDB casts a DOUBLE to text with its fraction (`1.0`).
    doubleOneAsText: '1.0',
    // DuckDB keeps the JSON text as it was written.
    jsonObjectAsText: '{"a":1}',
  },
  {
    name: 'postgres',
    open: (hooks) => openPostgresDestination(postgresUrl(), { hooks }),
    stageTables: namesOf(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND starts_with(c.relname, '_ki_stage_') AND (n.nspname = $1 OR starts_with(n.nspname, 'pg_temp_')) ORDER BY 1",
    ),
    // pg_class lists the TEMP tables of every connection.
    seesOpenStages: true,
    refuseLogRow: refuseWithCheck,
    checkViolation: /violates check constraint.*SQLSTATE 23514/,
    // PostgreSQL text cannot hold NUL, nor jsonb NUL or an unpaired surrogate: they become U+FFFD.
    nulText: 'nul\ufffdinside',
    nulJson: { nul: 'z\ufffd', lone: '\ufffd' },
    // PostgreSQL casts a double precision to its shortest text (`1`).
    doubleOneAsText: '1',
    // jsonb stores the value, not the text: its text is PostgreSQL's normalized form.
    jsonObjectAsText: '{"a": 1}',
  },
  {
    name: 'parquet',
    open: async (hooks) => {
      const dest: ParquetDestination = await openParquetDestination(join(dir, `lake${files++}`), {
        hooks: {
          ...hooks,
          afterRename: (file) => {
            if (refusingLog.has(dest) && file.includes('/ingestion_log/'))
              throw new Error('injected: the log file was refused');
          },
        },
      });
      return dest;
    },
    // Stages are TEMP tables of the sessions' own DuckDB connections (not visible here), and a
    // commit's files wait in `<schema>/_staging/<seq>/`: both are listed.
    stageTables: async (dest, schema) => {
      const root = (dest as ParquetDestination).root;
      let staging: string[] = [];
      try {
        staging = readdirSync(join(root, schema, '_staging'));
      } catch {
        staging = [];
      }
      const temp = await dest.query(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp' AND starts_with(table_name, '_ki_stage_')",
      );
      return [...temp.map((row) => String(row.table_name)), ...staging];
    },
    seesOpenStages: false,
    refuseLogRow: async (dest) => {
      refusingLog.add(dest);
    },
    checkViolation: /injected: the log file was refused/,
    // Text is stored as written.
    nulText: 'nul\u0000inside',
    nulJson: { nul: 'z\u0000', lone: '\ud800' },
    // Widening rewrites the files through DuckDB's casts: BIGINT -> DOUBLE -> VARCHAR as in DuckDB.
    doubleOneAsText: '1.0',
    // JSON columns are text holding JSON, kept as written.
    jsonObjectAsText: '{"a":1}',
  },
];

/**
 * A row read back, with values of the two types whose JS form is the driver's choice made comparable:
 * a BIGINT column's value as bigint (drivers give bigint or its decimal text), a JSON column's value
 * parsed (drivers give the text or the object). Anything else, text included, is left as read.
 */
function normalize(row: Record<string, unknown>, types: ReadonlyMap<string, ColumnType>) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const type = types.get(key);
    if (type === 'BIGINT' && typeof value === 'string' && /^-?\d+$/.test(value)) out[key] = BigInt(value);
    else if (type === 'JSON' && typeof value === 'string') out[key] = JSON.parse(value);
    else out[key] = value;
  }
  return out;
}

describe.each(DESTINATIONS)('$name', (factory) => {
  let dest: Destination;
  let S = '';
  let failAt: CommitStep | null = null;

  beforeEach(async () => {
    failAt = null;
    S = `ki_contract_${randomBytes(6).toString('hex')}`;
    dest = await factory.open({
      beforeCommitStep: (step) => {
        if (step === failAt) throw new Error(`injected failure before ${step}`);
      },
    });
    await dest.ensureSchema(S);
  });
  afterEach(async () => {
    await dest.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`).catch(() => undefined);
    await dest.close();
  });

  const target = (table: string, mode: WriteMode, windowColumn: string | null) =>
    loadTarget(S, table, mode, windowColumn);
  const events = () => target('events', 'append', 'datetime');

  const load = (t: LoadTarget, ...batches: Row[][]) => loadBatches(dest, t, ...batches);

  /** A read of `table`'s columns (selected under their own names), normalized by their types. */
  async function select(table: string, sql: string, params: Param[] = []) {
    const types = new Map((await dest.tableColumns(S, table))?.map((c) => [c.name, c.type]));
    return (await dest.query(sql, params)).map((row) => normalize(row, types));
  }

  async function count(table: string): Promise<number> {
    const [row] = await dest.query(`SELECT count(*) AS n FROM ${S}.${table}`);
    return Number(row?.n);
  }

  async function tableState(table: string) {
    return {
      columns: await dest.tableColumns(S, table),
      rows: await dest.query(`SELECT * FROM ${S}.${table} ORDER BY id NULLS LAST, time`),
      log: await dest
        .query(`SELECT * FROM ${S}.ingestion_log ORDER BY log_id, time`)
        .catch(() => 'no log table'),
    };
  }

  function stageName(session: LoadSession): string {
    expect(session).toBeInstanceOf(StagedLoadSession);
    return (session as StagedLoadSession).stageName;
  }

  describe('setup', () => {
    it('creates exactly the given columns, idempotently', async () => {
      await dest.createTableIfMissing(S, 'events', [
        { name: 'datetime', type: 'VARCHAR' },
        { name: 'time', type: 'BIGINT' },
      ]);
      await dest.createTableIfMissing(S, 'events', [{ name: 'other', type: 'BIGINT' }]);
      expect(await dest.tableColumns(S, 'events')).toEqual([
        { name: 'datetime', type: 'VARCHAR' },
        { name: 'time', type: 'BIGINT' },
      ]);
      expect(await dest.tableColumns(S, 'missing')).toBeNull();
    });

    it('rejects config identifiers that are not plain', async () => {
      await expect(dest.createTableIfMissing(S, 'bad name', [{ name: 'a', type: 'BIGINT' }])).rejects.toThrow(
        IngestError,
      );
      await expect(dest.openLoad({ ...events(), schema: 'x"; drop' })).rejects.toThrow(/invalid schema name/);
    });

    it('appendLog creates ingestion_log with the templates columns plus duration_seconds', async () => {
      await dest.appendLog(S, [logRow({ status: 'STARTED', records_processed: 0, duration_seconds: null })]);
      expect(await dest.tableColumns(S, 'ingestion_log')).toEqual([
        { name: 'log_id', type: 'VARCHAR' },
        { name: 'source_name', type: 'VARCHAR' },
        { name: 'workflow_name', type: 'VARCHAR' },
        { name: 'table_name', type: 'VARCHAR' },
        { name: 'status', type: 'VARCHAR' },
        { name: 'start_time', type: 'VARCHAR' },
        { name: 'end_time', type: 'VARCHAR' },
        { name: 'records_processed', type: 'BIGINT' },
        { name: 'error_message', type: 'VARCHAR' },
        { name: 'job_id', type: 'VARCHAR' },
        { name: 'job_url', type: 'VARCHAR' },
        { name: 'time', type: 'BIGINT' },
        { name: 'duration_seconds', type: 'DOUBLE' },
      ]);
      expect(
        await select(
          'ingestion_log',
          `SELECT status, records_processed, time, duration_seconds FROM ${S}.ingestion_log`,
        ),
      ).toEqual([{ status: 'STARTED', records_processed: 0n, time: 1_756_771_200n, duration_seconds: null }]);
    });
  });

  describe('hostile column names', () => {
    it('stores any Klaviyo attribute name as a quoted column', async () => {
      const text = 'tab\there, newline\nthere, cr\r, backslash \\N \\ end, emoji 🦆, quote \' and "';
      const hostile: Row = {
        id: 'e1',
        datetime: '2025-09-03T10:11:12+00:00',
        $value: 12.5,
        'with space': 'a',
        'dotted.name': 'b',
        'quote"inside': 'c',
        "single'quote": 'd',
        '"); DROP TABLE src.events; --': 'e',
        名前: 'f',
        '': 'g',
        constructor: 'h',
        email: 'lower',
        Email: 'upper',
        text,
        nul: 'nul\u0000inside',
        json: { 'a\tb': 'x\\y\n', nul: 'z\u0000', lone: '\ud800' },
      };
      const result = await load(events(), [hostile, { id: 'e2', datetime: '2025-09-03T10:11:13+00:00' }]);
      expect(result).toEqual({ inserted: 2, duplicatesSkipped: 0 });
      const columns = (await dest.tableColumns(S, 'events'))!.map((c) => c.name);
      expect(columns).toEqual([
        'datetime',
        'time',
        'id',
        '$value',
        'with space',
        'dotted.name',
        'quote"inside',
        "single'quote",
        '"); DROP TABLE src.events; --',
        '名前',
        '_',
        'constructor',
        'email',
        'Email__2',
        'text',
        'nul',
        'json',
      ]);
      const [first, second] = await select('events', `SELECT * FROM ${S}.events ORDER BY id`);
      expect(first).toMatchObject({
        $value: 12.5,
        'with space': 'a',
        'dotted.name': 'b',
        'quote"inside': 'c',
        "single'quote": 'd',
        '"); DROP TABLE src.events; --': 'e',
        名前: 'f',
        _: 'g',
        constructor: 'h',
        email: 'lower',
        Email__2: 'upper',
        text,
        nul: factory.nulText,
        json: { 'a\tb': 'x\\y\n', ...factory.nulJson },
      });
      // A row without `constructor` must not pick up Object.prototype.constructor.
      expect(second).toMatchObject({ id: 'e2', constructor: null, $value: null, json: null });
    });
  });

  describe('append', () => {
    it('skips boundary duplicates (same id + same window value) and keeps same id with a new window value', async () => {
      const t1 = '2025-09-03T10:00:00+00:00';
      const t2 = '2025-09-03T11:00:00+00:00';
      expect(
        await load(events(), [
          { id: 'a', datetime: t1, time: 1 },
          { id: 'b', datetime: t1, time: 1 },
        ]),
      ).toEqual({ inserted: 2, duplicatesSkipped: 0 });
      const second = await load(events(), [
        { id: 'a', datetime: t1, time: 2 }, // re-read boundary second: duplicate
        { id: 'b', datetime: t2, time: 2 }, // same id, new window value: kept
        { id: 'c', datetime: t2, time: 2 },
        { id: 'c', datetime: t2, time: 2 }, // duplicate earlier in the same load
        { id: null, datetime: t2, time: 2 }, // no id: never a duplicate
      ]);
      expect(second).toEqual({ inserted: 3, duplicatesSkipped: 2 });
      expect(
        await select('events', `SELECT id, datetime, time FROM ${S}.events ORDER BY id NULLS LAST, datetime`),
      ).toEqual([
        { id: 'a', datetime: t1, time: 1n },
        { id: 'b', datetime: t1, time: 1n },
        { id: 'b', datetime: t2, time: 2n },
        { id: 'c', datetime: t2, time: 2n },
        { id: null, datetime: t2, time: 2n },
      ]);
      expect(await count('ingestion_log')).toBe(2);
    });

    it('treats a missing window value as a value: same id and both NULL is a duplicate', async () => {
      const t1 = '2025-09-03T10:00:00+00:00';
      await load(events(), [
        { id: 'a', datetime: null, time: 1 },
        { id: 'b', datetime: t1, time: 1 },
      ]);
      const second = await load(events(), [
        { id: 'a', datetime: null, time: 2 }, // same id, both NULL: duplicate
        { id: 'a', datetime: t1, time: 2 }, // same id, a value where the table has NULL: kept
        { id: 'b', datetime: null, time: 2 }, // NULL where the table has a value: kept
        { id: null, datetime: null, time: 2 },
        { id: null, datetime: null, time: 2 }, // rows without an id are all kept
        { id: 'd', datetime: null, time: 2 },
        { id: 'd', datetime: null, time: 3 }, // same id, both NULL within the load: duplicate
      ]);
      expect(second).toEqual({ inserted: 5, duplicatesSkipped: 2 });
      expect(
        await select(
          'events',
          `SELECT id, datetime, time FROM ${S}.events ORDER BY id NULLS LAST, datetime NULLS FIRST, time`,
        ),
      ).toEqual([
        { id: 'a', datetime: null, time: 1n },
        { id: 'a', datetime: t1, time: 2n },
        { id: 'b', datetime: null, time: 2n },
        { id: 'b', datetime: t1, time: 1n },
        { id: 'd', datetime: null, time: 2n },
        { id: null, datetime: null, time: 2n },
        { id: null, datetime: null, time: 2n },
      ]);
    });

    it('appends everything when there is no window column (full loads such as metrics)', async () => {
      const metrics = target('metrics', 'append', null);
      await load(metrics, [{ id: 'm1', name: 'Opened Email', time: 1 }]);
      expect(await load(metrics, [{ id: 'm1', name: 'Opened Email', time: 2 }])).toEqual({
        inserted: 1,
        duplicatesSkipped: 0,
      });
      expect(await select('metrics', `SELECT id, time FROM ${S}.metrics ORDER BY time`)).toEqual([
        { id: 'm1', time: 1n },
        { id: 'm1', time: 2n },
      ]);
    });

    it('adds columns as new attributes appear mid-load; older rows read NULL', async () => {
      await load(events(), [{ id: 'a', datetime: 't0', time: 1 }]);
      await load(
        events(),
        [{ id: 'b', datetime: 't1', time: 2 }],
        [{ id: 'c', datetime: 't2', time: 2, uuid: 'u-c', event_properties: { $value: 3, items: ['x'] } }],
        [{ id: 'd', datetime: 't3', time: 2, uuid: 'u-d', flag: true, big: 2n ** 62n, n: -3 }],
      );
      expect(await dest.tableColumns(S, 'events')).toEqual([
        { name: 'datetime', type: 'VARCHAR' },
        { name: 'time', type: 'BIGINT' },
        { name: 'id', type: 'VARCHAR' },
        { name: 'uuid', type: 'VARCHAR' },
        { name: 'event_properties', type: 'JSON' },
        { name: 'flag', type: 'BOOLEAN' },
        { name: 'big', type: 'BIGINT' },
        { name: 'n', type: 'BIGINT' },
      ]);
      expect(
        await select(
          'events',
          `SELECT id, uuid, event_properties, flag, big, n FROM ${S}.events ORDER BY id`,
        ),
      ).toEqual([
        { id: 'a', uuid: null, event_properties: null, flag: null, big: null, n: null },
        { id: 'b', uuid: null, event_properties: null, flag: null, big: null, n: null },
        {
          id: 'c',
          uuid: 'u-c',
          event_properties: { $value: 3, items: ['x'] },
          flag: null,
          big: null,
          n: null,
        },
        { id: 'd', uuid: 'u-d', event_properties: null, flag: true, big: 2n ** 62n, n: -3n },
      ]);
    });

    it('widens BIGINT -> DOUBLE -> VARCHAR across loads and keeps the old values', async () => {
      const t = target('w', 'append', 'updated');
      const type = async () => (await dest.tableColumns(S, 'w'))!.find((c) => c.name === 'v')?.type;
      await load(t, [{ id: '1', updated: 'a', v: 1 }]);
      expect(await type()).toBe('BIGINT');
      await load(t, [{ id: '2', updated: 'a', v: 2.5 }]);
      expect(await type()).toBe('DOUBLE');
      await load(t, [{ id: '3', updated: 'a', v: 'three' }]);
      expect(await type()).toBe('VARCHAR');
      expect(await select('w', `SELECT id, v FROM ${S}.w ORDER BY id`)).toEqual([
        { id: '1', v: factory.doubleOneAsText },
        { id: '2', v: '2.5' },
        { id: '3', v: 'three' },
      ]);
    });

    it('widens JSON -> VARCHAR across loads and keeps the old values as JSON text', async () => {
      const t = target('j', 'append', 'updated');
      await load(t, [{ id: '1', updated: 'a', j: { a: 1 } }]);
      expect(await dest.tableColumns(S, 'j')).toContainEqual({ name: 'j', type: 'JSON' });
      await load(t, [{ id: '2', updated: 'a', j: 'plain' }]);
      expect(await dest.tableColumns(S, 'j')).toContainEqual({ name: 'j', type: 'VARCHAR' });
      expect(await select('j', `SELECT id, j FROM ${S}.j ORDER BY id`)).toEqual([
        { id: '1', j: factory.jsonObjectAsText },
        { id: '2', j: 'plain' },
      ]);
    });

    it("stores the API's own JSON text (RawJson) as that JSON, and as its text in a text column", async () => {
      const t = target('raw', 'append', 'updated');
      // Escapes as the API may write them, a surrogate pair among them, and the same emoji unescaped.
      const text = '{"s":"caf\\u00e9 \\ud83c\\udf38 🌸","n":[1,2.5,-0.5e1],"e":{},"q":"a\\"b\\\\"}';
      await load(t, [
        { id: '1', updated: 'a', j: new RawJson(Buffer.from(text)), k: 'plain' },
        { id: '2', updated: 'a', j: new RawJson(Buffer.from('[]')), k: new RawJson(Buffer.from('{"a":1}')) },
      ]);
      expect(await dest.tableColumns(S, 'raw')).toContainEqual({ name: 'j', type: 'JSON' });
      expect(await dest.tableColumns(S, 'raw')).toContainEqual({ name: 'k', type: 'VARCHAR' });
      expect(await select('raw', `SELECT id, j, k FROM ${S}.raw ORDER BY id`)).toEqual([
        { id: '1', j: { s: 'café 🌸 🌸', n: [1, 2.5, -5], e: {}, q: 'a"b\\' }, k: 'plain' },
        { id: '2', j: [], k: '{"a":1}' },
      ]);
    });

    it('widens within one load across batches (int, then double, then text; JSON then scalar)', async () => {
      const result = await load(
        target('mixed', 'append', null),
        [
          { id: '1', v: 1, j: { a: 1n } },
          { id: '2', v: 2 ** 62, j: [1, 2] },
        ],
        [{ id: '3', v: 0.5, j: 'plain' }],
        [{ id: '4', v: 'x', big: 2n ** 64n, b: false }],
        [{ id: '5', b: 7 }],
      );
      expect(result.inserted).toBe(5);
      const columns = Object.fromEntries((await dest.tableColumns(S, 'mixed'))!.map((c) => [c.name, c.type]));
      expect(columns).toMatchObject({ v: 'VARCHAR', j: 'VARCHAR', big: 'VARCHAR', b: 'VARCHAR' });
      // Widened in the stage, before the table sees them: the values' own text, the same everywhere.
      expect(await select('mixed', `SELECT id, v, j, big, b FROM ${S}.mixed ORDER BY id`)).toEqual([
        { id: '1', v: factory.doubleOneAsText, j: '{"a":1}', big: null, b: null },
        { id: '2', v: '4.611686018427388e+18', j: '[1,2]', big: null, b: null },
        { id: '3', v: '0.5', j: 'plain', big: null, b: null },
        { id: '4', v: 'x', j: null, big: '18446744073709551616', b: 'false' },
        { id: '5', v: null, j: null, big: null, b: '7' },
      ]);
    });
  });

  describe('replace and merge', () => {
    it('replace swaps the contents and keeps the union of columns', async () => {
      const lists = target('lists', 'replace', 'updated');
      await load(lists, [
        { id: 'l1', updated: 'u1', name: 'one', old_attr: 1 },
        { id: 'l2', updated: 'u1', name: 'two', old_attr: 2 },
      ]);
      expect(await load(lists, [{ id: 'l3', updated: 'u2', name: 'three' }])).toEqual({
        inserted: 1,
        duplicatesSkipped: 0,
      });
      expect(await select('lists', `SELECT id, name, old_attr FROM ${S}.lists`)).toEqual([
        { id: 'l3', name: 'three', old_attr: null },
      ]);
    });

    it('merge keeps one current row per id: the greatest window value wins, then the last staged', async () => {
      const profiles = target('profiles', 'merge', 'updated');
      await load(profiles, [
        { id: 'p1', updated: '2025-09-01T00:00:00+00:00', email: 'old1' },
        { id: 'p2', updated: '2025-09-01T00:00:00+00:00', email: 'old2' },
      ]);
      const result = await load(profiles, [
        { id: 'p1', updated: '2025-09-03T00:00:00+00:00', email: 'newest1' },
        // Staged later and greater as text, but chronologically older (= 2025-09-02T20:00Z).
        { id: 'p1', updated: '2025-09-03T01:00:00+05:00', email: 'older1' },
        { id: 'p3', updated: '2025-09-02T00:00:00Z', email: 'first3' },
        { id: 'p3', updated: '2025-09-02 00:00:00+00:00', email: 'last3' },
        { id: 'p4', updated: 'garbage', email: 'junk4' }, // unparseable: after any real value
        { id: 'p4', updated: '2025-09-01T00:00:00', email: 'real4' },
        { id: 'p4', updated: 'infinity', email: 'infinite4' }, // not a timestamp here either
        { id: 'p4', updated: null, email: 'null4' },
      ]);
      expect(result).toEqual({ inserted: 3, duplicatesSkipped: 5 });
      expect(await select('profiles', `SELECT id, email FROM ${S}.profiles ORDER BY id`)).toEqual([
        { id: 'p1', email: 'newest1' },
        { id: 'p2', email: 'old2' },
        { id: 'p3', email: 'last3' },
        { id: 'p4', email: 'real4' },
      ]);
    });

    it('merge without any id fails clearly and changes nothing', async () => {
      await dest.createTableIfMissing(S, 'noid', [{ name: 'time', type: 'BIGINT' }]);
      const session = await dest.openLoad(target('noid', 'merge', null));
      await session.write([{ name: 'x' }]);
      await expect(session.commit([logRow()])).rejects.toThrow(/merge mode needs an 'id'/);
      expect(await dest.tableColumns(S, 'noid')).toEqual([{ name: 'time', type: 'BIGINT' }]);
      expect(await count('noid')).toBe(0);
      expect(await dest.tableStatus(S)).toEqual([]);
    });
  });

  describe('snapshot', () => {
    const tags = () => ({ ...target('tags', 'snapshot', null), deletedAt: '2025-10-15T12:00:00+00:00' });

    it('merges by id and marks the rows a later snapshot no longer has; an id that comes back is live again', async () => {
      const first = await load(tags(), [
        { id: 't1', name: 'one' },
        { id: 't2', name: 'two' },
        { id: 't3', name: 'three' },
      ]);
      expect(first).toEqual({ inserted: 3, duplicatesSkipped: 0, markedDeleted: 0 });
      const second = await load({ ...tags(), deletedAt: '2025-10-16T00:00:00+00:00' }, [
        { id: 't1', name: 'one (edited)' },
        { id: 't3', name: 'three' },
        { id: 't3', name: 'three' }, // read twice (a re-read page): one row
      ]);
      expect(second).toEqual({ inserted: 2, duplicatesSkipped: 1, markedDeleted: 1 });
      const rows = () => select('tags', `SELECT id, name, _deleted_at FROM ${S}.tags ORDER BY id`);
      expect(await rows()).toEqual([
        { id: 't1', name: 'one (edited)', _deleted_at: null },
        { id: 't2', name: 'two', _deleted_at: '2025-10-16T00:00:00+00:00' },
        { id: 't3', name: 'three', _deleted_at: null },
      ]);
      // Marked once: a later snapshot keeps the first time it was seen missing.
      const third = await load({ ...tags(), deletedAt: '2025-10-17T00:00:00+00:00' }, [
        { id: 't1', name: 'one (edited)' },
        { id: 't2', name: 'two is back' },
      ]);
      expect(third).toEqual({ inserted: 2, duplicatesSkipped: 0, markedDeleted: 1 });
      expect(await rows()).toEqual([
        { id: 't1', name: 'one (edited)', _deleted_at: null },
        { id: 't2', name: 'two is back', _deleted_at: null },
        { id: 't3', name: 'three', _deleted_at: '2025-10-17T00:00:00+00:00' },
      ]);
    });

    it('an empty snapshot marks every live row, in the commit of its log row', async () => {
      await load(tags(), [{ id: 't1', name: 'one' }]);
      expect(await load({ ...tags(), deletedAt: '2025-10-18T00:00:00+00:00' })).toEqual({
        inserted: 0,
        duplicatesSkipped: 0,
        markedDeleted: 1,
      });
      expect(await select('tags', `SELECT id, _deleted_at FROM ${S}.tags`)).toEqual([
        { id: 't1', _deleted_at: '2025-10-18T00:00:00+00:00' },
      ]);
      // A failed commit marks nothing.
      await load(tags(), [{ id: 't1', name: 'one' }]);
      failAt = 'log';
      await expect(load({ ...tags(), deletedAt: '2025-10-19T00:00:00+00:00' })).rejects.toThrow(
        /injected failure/,
      );
      expect(await select('tags', `SELECT id, _deleted_at FROM ${S}.tags`)).toEqual([
        { id: 't1', _deleted_at: null },
      ]);
    });
  });

  describe('memberships (parent progress with member sets)', () => {
    const J1 = '2025-09-01T00:00:00+00:00';
    const J2 = '2025-10-01T00:00:00+00:00';
    const members = (deletedAt: string) => ({ ...target('members', 'append', 'joined_group_at'), deletedAt });
    const member = (list: string, profile: string, joined: string) => ({
      id: `${list}:${profile}`,
      list_id: list,
      profile_id: profile,
      joined_group_at: joined,
    });
    /** One commit of `rows` that checks the parents of `current` against their member ids. */
    async function commit(deletedAt: string, rows: Row[], current: Record<string, string[]>) {
      const session = await dest.openLoad(members(deletedAt));
      if (rows.length > 0) await session.write(rows);
      return session.commit([logRow({ table_name: 'members' })], {
        done: Object.keys(current).map((parentId) => ({ parentId, endTime: '2025-10-16 00:00:00' })),
        complete: true,
        members: {
          parentColumn: 'list_id',
          memberColumn: 'profile_id',
          current: new Map(Object.entries(current)),
        },
      });
    }
    const rows = () =>
      select(
        'members',
        `SELECT id, joined_group_at, _deleted_at FROM ${S}.members ORDER BY id, joined_group_at`,
      );

    it("marks the checked parents' rows of members who left; a member's newest row is live, a mark is cleared when its row is back", async () => {
      const first = await commit(
        '2025-10-15T00:00:00+00:00',
        [member('L1', 'a', J1), member('L1', 'b', J1), member('L2', 'c', J1), member('L3', 'd', J1)],
        {
          L1: ['a', 'b'],
          L2: ['c'],
          L3: ['d'],
        },
      );
      expect(first).toEqual({ inserted: 4, duplicatesSkipped: 0, markedDeleted: 0 });
      // b left L1, L2 has no member left; L3 is not checked by this commit.
      expect(await commit('2025-10-16T00:00:00+00:00', [], { L1: ['a'], L2: [] })).toEqual({
        inserted: 0,
        duplicatesSkipped: 0,
        markedDeleted: 2,
      });
      // b re-joins L1 (a new row, with its new joined_group_at), c is back in L2 as it was, a left L1.
      expect(
        await commit('2025-10-17T00:00:00+00:00', [member('L1', 'b', J2)], { L1: ['b'], L2: ['c'] }),
      ).toEqual({
        inserted: 1,
        duplicatesSkipped: 0,
        markedDeleted: 1,
      });
      expect(await rows()).toEqual([
        { id: 'L1:a', joined_group_at: J1, _deleted_at: '2025-10-17T00:00:00+00:00' },
        { id: 'L1:b', joined_group_at: J1, _deleted_at: '2025-10-16T00:00:00+00:00' },
        { id: 'L1:b', joined_group_at: J2, _deleted_at: null },
        { id: 'L2:c', joined_group_at: J1, _deleted_at: null },
        { id: 'L3:d', joined_group_at: J1, _deleted_at: null },
      ]);
      // A failed commit marks nothing.
      const before = await rows();
      failAt = 'log';
      await expect(commit('2025-10-18T00:00:00+00:00', [], { L1: [], L2: [], L3: [] })).rejects.toThrow(
        /injected failure/,
      );
      expect(await rows()).toEqual(before);
    });
  });

  describe('maxTimestamp', () => {
    it('is the chronological max over mixed formats, ignoring NULL and garbage; null when empty', async () => {
      await dest.createTableIfMissing(S, 'ts', [
        { name: 'updated', type: 'VARCHAR' },
        { name: 'time', type: 'BIGINT' },
      ]);
      expect(await dest.maxTimestamp(S, 'ts', 'updated')).toBeNull();
      expect(await dest.maxTimestamp(S, 'no_such_table', 'updated')).toBeNull();
      const values = [
        '2025-09-03T10:11:12+00:00',
        '2025-09-03 10:11:12.123+00:00',
        '2025-09-03T10:11:11Z',
        '2025-09-03T12:11:12.500+02:00', // = 10:11:12.500Z, the max
        '2025-09-03T10:11:12.400', // naive = UTC
        '2025-09-04T03:00:00+18:00', // = 2025-09-03T09:00Z; the text max, not the chronological one
        '2025-13-45T00:00:00Z', // looks like a date, is not one
        'not a timestamp',
        'now',
        'infinity',
        '-infinity',
        'epoch',
        '',
        null,
      ];
      await load(
        target('ts', 'append', 'updated'),
        values.map((updated, i) => ({ id: String(i), updated })),
      );
      expect(await dest.maxTimestamp(S, 'ts', 'updated')).toBe(Date.parse('2025-09-03T10:11:12.500Z'));
      await load(target('ts2', 'append', 'updated'), [{ id: '1', updated: 'garbage' }]);
      expect(await dest.maxTimestamp(S, 'ts2', 'updated')).toBeNull();
      // Naive values are UTC: a naive maximum reads as that time in UTC.
      await load(target('ts3', 'append', 'updated'), [{ id: '1', updated: '2025-09-03 10:00:00' }]);
      expect(await dest.maxTimestamp(S, 'ts3', 'updated')).toBe(Date.parse('2025-09-03T10:00:00Z'));
    });
  });

  describe('atomicity', () => {
    async function seed() {
      await load(events(), [{ id: 'a', datetime: 't1', time: 1, n: 1 }]);
      return tableState('events');
    }

    it.each<CommitStep>(['schema', 'rows', 'log', 'drop-stage', 'commit'])(
      'a commit failing before step %s leaves table, columns and log exactly as before, and no stage',
      async (step) => {
        const before = await seed();
        failAt = step;
        const session = await dest.openLoad(events());
        const stage = stageName(session);
        await session.write([{ id: 'b', datetime: 't2', time: 2, n: 1.5, new_column: 'x' }]);
        const error = await session.commit([logRow({ log_id: 'log-2' })]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(IngestError);
        expect((error as IngestError).kind).toBe('ingestion');
        expect((error as IngestError).message).toMatch(new RegExp(`injected failure before ${step}`));
        expect(await tableState('events')).toEqual(before);
        expect(await factory.stageTables(dest, S)).not.toContain(stage);
        await expect(session.write([])).rejects.toThrow(/already finished/);
        failAt = null;
        expect(await load(events(), [{ id: 'c', datetime: 't3', time: 3 }])).toEqual({
          inserted: 1,
          duplicatesSkipped: 0,
        });
      },
    );

    it('a log row the table rejects rolls back the rows and schema changes too', async () => {
      const before = await seed();
      await factory.refuseLogRow(dest, S);
      const logBefore = await dest.query(`SELECT * FROM ${S}.ingestion_log`);
      expect(logBefore).toHaveLength(1);

      const session = await dest.openLoad(events());
      await session.write([{ id: 'b', datetime: 't2', time: 2, n: 'text now', extra: 1 }]);
      const error = (await session.commit([logRow({ log_id: 'refused' })]).catch((e: unknown) => e)) as
        | IngestError
        | undefined;
      expect(error).toBeInstanceOf(IngestError);
      expect(error!.code).toBe('DESTINATION_WRITE');
      expect(error!.message).toContain(`${S}.events`);
      expect(error!.message).toMatch(factory.checkViolation);
      const after = await tableState('events');
      expect(after.columns).toEqual(before.columns);
      expect(after.rows).toEqual(before.rows);
      expect(await dest.query(`SELECT * FROM ${S}.ingestion_log`)).toEqual(logBefore);
    });

    it('abort drops the stage and leaves the table unchanged', async () => {
      const before = await seed();
      const session = await dest.openLoad(events());
      const stage = stageName(session);
      await session.write([{ id: 'z', datetime: 't9', time: 9, brand_new: { x: 1 } }]);
      if (factory.seesOpenStages) expect(await factory.stageTables(dest, S)).toContain(stage);
      await session.abort();
      await session.abort(); // idempotent
      expect(await tableState('events')).toEqual(before);
      expect(await factory.stageTables(dest, S)).not.toContain(stage);
      await expect(session.commit([])).rejects.toThrow(/already finished/);
    });
  });

  describe('concurrency', () => {
    it('overlapping writes to one session run in order', async () => {
      const session = await dest.openLoad(events());
      const batch = (from: number, extra: string) =>
        Array.from({ length: 300 }, (_, i) => ({ id: `e${from + i}`, datetime: 't', [extra]: i }));
      await Promise.all([
        session.write(batch(0, 'x')),
        session.write(batch(300, 'y')),
        session.write(batch(600, 'x')),
      ]);
      expect(await session.commit([logRow()])).toEqual({ inserted: 900, duplicatesSkipped: 0 });
      expect(
        await dest.query(
          `SELECT count(*) AS n, count(x) AS x, count(y) AS y, min(x) AS lo, max(x) AS hi FROM ${S}.events`,
        ),
      ).toEqual([{ n: 900n, x: 600n, y: 300n, lo: 0n, hi: 299n }]);
      // Arrival order held: e0..e299 and e600..e899 have x = 0..299, e300..e599 have y.
      expect(
        await select(
          'events',
          `SELECT id, x, y FROM ${S}.events WHERE id IN ('e0', 'e299', 'e300', 'e599', 'e600', 'e899') ORDER BY id`,
        ),
      ).toEqual([
        { id: 'e0', x: 0n, y: null },
        { id: 'e299', x: 299n, y: null },
        { id: 'e300', x: null, y: 0n },
        { id: 'e599', x: null, y: 299n },
        { id: 'e600', x: 0n, y: null },
        { id: 'e899', x: 299n, y: null },
      ]);
    });

    it('runs sessions on different tables at once, interleaving writes and commits', async () => {
      const targets = ['events', 'profiles', 'campaigns'].map((table) => target(table, 'append', 'updated'));
      const sessions = await Promise.all(targets.map((t) => dest.openLoad(t)));
      await Promise.all(
        sessions.map(async (session, s) => {
          for (let batch = 0; batch < 5; batch++) {
            const batchRows = Array.from({ length: 2000 }, (_, i) => ({
              id: `${s}-${batch}-${i}`,
              updated: `2025-09-0${batch + 1}T00:00:00Z`,
              [`attr_${batch}`]: i,
              text: `line ${i}\twith\ttabs\nand newlines \\ backslashes`,
            }));
            await session.write(batchRows);
          }
        }),
      );
      const results = await Promise.all(
        sessions.map((session, s) => session.commit([logRow({ log_id: `l${s}` })])),
      );
      expect(results).toEqual(targets.map(() => ({ inserted: 10_000, duplicatesSkipped: 0 })));
      for (const t of targets) expect(await count(t.table)).toBe(10_000);
      expect(await count('ingestion_log')).toBe(3);
    });

    it('sessions on one table overlap; their commits are serialized, each deduping against the other', async () => {
      const a = await dest.openLoad(events());
      const b = await dest.openLoad(events());
      await Promise.all([
        a.write([{ id: 'x', datetime: 't1', from: 'a' }]),
        b.write([{ id: 'x', datetime: 't1', from: 'b' }]),
      ]);
      const results = await Promise.all([a.commit([]), b.commit([])]);
      expect(results).toContainEqual({ inserted: 1, duplicatesSkipped: 0 });
      expect(results).toContainEqual({ inserted: 0, duplicatesSkipped: 1 });
      expect(await count('events')).toBe(1);
    });
  });

  describe('tableStatus', () => {
    it('reports per table the latest run, the latest success and the rows now; empty without a log', async () => {
      expect(await dest.tableStatus(S)).toEqual([]);
      await load(events(), [
        { id: 'a', datetime: 't1' },
        { id: 'b', datetime: 't1' },
      ]);
      await dest.appendLog(S, [
        logRow({ table_name: 'events', status: 'ERROR', time: 1_756_771_300, error_message: 'boom' }),
        logRow({ table_name: 'gone', status: 'SUCCESS', time: 1_756_771_000, records_processed: 4 }),
      ]);
      expect(await dest.tableStatus(S)).toEqual([
        {
          table: 'events',
          rows: 2,
          lastStatus: 'ERROR',
          lastRunAt: 1_756_771_300,
          lastSuccess: {
            at: 1_756_771_200,
            startTime: '2025-09-01T00:00:00.000000',
            endTime: '2025-09-02T00:00:00.000000',
            records: 2,
          },
          lastError: 'boom',
        },
        {
          table: 'gone',
          rows: null,
          lastStatus: 'SUCCESS',
          lastRunAt: 1_756_771_000,
          lastSuccess: {
            at: 1_756_771_000,
            startTime: '2025-09-01T00:00:00.000000',
            endTime: '2025-09-02T00:00:00.000000',
            records: 4,
          },
          lastError: null,
        },
      ]);
    });
  });
});
