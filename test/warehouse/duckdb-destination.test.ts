import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import { IngestError } from '../../src/util/errors.js';
import type { LoadTarget } from '../../src/warehouse/destination.js';
import {
  type DuckDBDestination,
  openDuckDBDestination,
} from '../../src/warehouse/duckdb/duckdb-destination.js';
import { openDestination } from '../../src/warehouse/open-destination.js';
import type { CommitStep } from '../../src/warehouse/staged-load.js';
import { logRow } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-warehouse-');
afterAll(cleanupTempDirs);

let n = 0;
let dest: DuckDBDestination;
let failAt: CommitStep | null = null;

beforeEach(async () => {
  failAt = null;
  dest = await openDuckDBDestination(join(dir, `db${n++}.duckdb`), {
    hooks: {
      beforeCommitStep: (step) => {
        if (step === failAt) throw new Error(`injected failure before ${step}`);
      },
    },
  });
  await dest.ensureSchema('src');
});
afterEach(async () => {
  await dest.close();
});

const events: LoadTarget = { schema: 'src', table: 'events', mode: 'append', windowColumn: 'datetime' };

async function load(target: LoadTarget, ...batches: Row[][]) {
  const session = await dest.openLoad(target);
  for (const batch of batches) await session.write(batch);
  return session.commit([logRow({ table_name: target.table, records_processed: batches.flat().length })]);
}

async function rows(sql: string, params: (string | number | null)[] = []) {
  return dest.query(sql, params);
}

async function tableState(table: string) {
  return {
    columns: await dest.tableColumns('src', table),
    rows: await rows(`SELECT * FROM src.${table} ORDER BY ALL`),
    log: await rows('SELECT * FROM src.ingestion_log ORDER BY ALL').catch(() => 'no log table'),
  };
}

describe('setup', () => {
  it('creates exactly the given columns, idempotently', async () => {
    await dest.createTableIfMissing('src', 'events', [
      { name: 'datetime', type: 'VARCHAR' },
      { name: 'time', type: 'BIGINT' },
    ]);
    await dest.createTableIfMissing('src', 'events', [{ name: 'other', type: 'BIGINT' }]);
    expect(await dest.tableColumns('src', 'events')).toEqual([
      { name: 'datetime', type: 'VARCHAR' },
      { name: 'time', type: 'BIGINT' },
    ]);
    expect(await dest.tableColumns('src', 'missing')).toBeNull();
  });

  it('rejects config identifiers that are not plain', async () => {
    await expect(
      dest.createTableIfMissing('src', 'bad name', [{ name: 'a', type: 'BIGINT' }]),
    ).rejects.toThrow(IngestError);
    await expect(dest.openLoad({ ...events, schema: 'x"; drop' })).rejects.toThrow(/invalid schema name/);
  });

  it('appendLog creates ingestion_log with the templates columns plus duration_seconds', async () => {
    await dest.appendLog('src', [
      logRow({ status: 'STARTED', records_processed: 0, duration_seconds: null }),
    ]);
    expect(await dest.tableColumns('src', 'ingestion_log')).toEqual([
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
      await rows('SELECT status, records_processed, time, duration_seconds FROM src.ingestion_log'),
    ).toEqual([{ status: 'STARTED', records_processed: 0n, time: 1_756_771_200n, duration_seconds: null }]);
  });

  it('openDestination opens a duckdb: URL and describes it', async () => {
    const other = await openDestination(`duckdb:${join(dir, 'url.duckdb')}`);
    expect(other.description).toBe(`duckdb:${join(dir, 'url.duckdb')}`);
    await other.close();
    const memory = await openDestination('duckdb::memory:');
    await memory.ensureSchema('src');
    expect(memory.description).toBe('duckdb::memory:');
    await memory.close();
  });
});

describe('instances', () => {
  it('shares one DuckDB instance per file within a process, closing it with the last user', async () => {
    const path = join(dir, 'shared.duckdb');
    const a = await openDuckDBDestination(path);
    const b = await openDuckDBDestination(path);
    await a.ensureSchema('src');
    await a.appendLog('src', [logRow()]);
    await a.close();
    expect(await b.query('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 1 }]);
    await b.close();
    // Opened again after its last user closed it: a new instance over the same file.
    const again = (await openDestination(`duckdb:${path}`)) as DuckDBDestination;
    try {
      await again.appendLog('src', [logRow({ log_id: 'log-2' })]);
      expect(await again.query('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 2 }]);
    } finally {
      await again.close();
    }
  });
});

describe('hostile column names', () => {
  it('stores any Klaviyo attribute name as a quoted column', async () => {
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
      text: 'nul\u0000inside, emoji 🦆, quote \' and "',
    };
    const result = await load(events, [hostile, { id: 'e2', datetime: '2025-09-03T10:11:13+00:00' }]);
    expect(result).toEqual({ inserted: 2, duplicatesSkipped: 0 });
    const columns = (await dest.tableColumns('src', 'events'))!.map((c) => c.name);
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
    ]);
    const [first, second] = await rows('SELECT * FROM src.events ORDER BY id');
    expect(first).toMatchObject({
      $value: 12.5,
      'quote"inside': 'c',
      '"); DROP TABLE src.events; --': 'e',
      名前: 'f',
      _: 'g',
      constructor: 'h',
      email: 'lower',
      Email__2: 'upper',
      text: 'nul\u0000inside, emoji 🦆, quote \' and "',
    });
    // A row without `constructor` must not pick up Object.prototype.constructor.
    expect(second).toMatchObject({ id: 'e2', constructor: null, $value: null });
  });
});

describe('append', () => {
  it('skips boundary duplicates (same id + same window value) and keeps same id with a new window value', async () => {
    const t1 = '2025-09-03T10:00:00+00:00';
    const t2 = '2025-09-03T11:00:00+00:00';
    expect(
      await load(events, [
        { id: 'a', datetime: t1, time: 1 },
        { id: 'b', datetime: t1, time: 1 },
      ]),
    ).toEqual({ inserted: 2, duplicatesSkipped: 0 });
    const second = await load(events, [
      { id: 'a', datetime: t1, time: 2 }, // re-read boundary second: duplicate
      { id: 'b', datetime: t2, time: 2 }, // same id, new window value: kept
      { id: 'c', datetime: t2, time: 2 },
      { id: 'c', datetime: t2, time: 2 }, // duplicate earlier in the same load
      { id: null, datetime: t2, time: 2 }, // no id: never a duplicate
    ]);
    expect(second).toEqual({ inserted: 3, duplicatesSkipped: 2 });
    expect(await rows('SELECT id, datetime, time FROM src.events ORDER BY id NULLS LAST, datetime')).toEqual([
      { id: 'a', datetime: t1, time: 1n },
      { id: 'b', datetime: t1, time: 1n },
      { id: 'b', datetime: t2, time: 2n },
      { id: 'c', datetime: t2, time: 2n },
      { id: null, datetime: t2, time: 2n },
    ]);
    expect(await rows('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 2 }]);
  });

  it('treats a missing window value as a value: same id and both NULL is a duplicate', async () => {
    const t1 = '2025-09-03T10:00:00+00:00';
    await load(events, [
      { id: 'a', datetime: null, time: 1 },
      { id: 'b', datetime: t1, time: 1 },
    ]);
    const second = await load(events, [
      { id: 'a', datetime: null, time: 2 }, // same id, both NULL: duplicate
      { id: 'a', datetime: t1, time: 2 }, // same id, a value where the table has NULL: kept
      { id: 'b', datetime: null, time: 2 }, // NULL where the table has a value: kept
      { id: null, datetime: null, time: 2 },
      { id: null, datetime: null, time: 2 }, // rows without an id are all kept
    ]);
    expect(second).toEqual({ inserted: 4, duplicatesSkipped: 1 });
    expect(
      await rows(
        'SELECT id, datetime, time FROM src.events ORDER BY id NULLS LAST, datetime NULLS FIRST, time',
      ),
    ).toEqual([
      { id: 'a', datetime: null, time: 1n },
      { id: 'a', datetime: t1, time: 2n },
      { id: 'b', datetime: null, time: 2n },
      { id: 'b', datetime: t1, time: 1n },
      { id: null, datetime: null, time: 2n },
      { id: null, datetime: null, time: 2n },
    ]);
  });

  it('appends everything when there is no window column (full loads such as metrics)', async () => {
    const metrics: LoadTarget = { schema: 'src', table: 'metrics', mode: 'append', windowColumn: null };
    await load(metrics, [{ id: 'm1', name: 'Opened Email', time: 1 }]);
    expect(await load(metrics, [{ id: 'm1', name: 'Opened Email', time: 2 }])).toEqual({
      inserted: 1,
      duplicatesSkipped: 0,
    });
    expect(await rows('SELECT id, time FROM src.metrics ORDER BY time')).toEqual([
      { id: 'm1', time: 1n },
      { id: 'm1', time: 2n },
    ]);
  });

  it('adds columns as new attributes appear mid-load; older rows read NULL', async () => {
    await load(events, [{ id: 'a', datetime: 't0', time: 1 }]);
    await load(
      events,
      [{ id: 'b', datetime: 't1', time: 2 }],
      [{ id: 'c', datetime: 't2', time: 2, uuid: 'u-c', event_properties: { $value: 3, items: ['x'] } }],
      [{ id: 'd', datetime: 't3', time: 2, uuid: 'u-d', flag: true }],
    );
    expect(await dest.tableColumns('src', 'events')).toEqual([
      { name: 'datetime', type: 'VARCHAR' },
      { name: 'time', type: 'BIGINT' },
      { name: 'id', type: 'VARCHAR' },
      { name: 'uuid', type: 'VARCHAR' },
      { name: 'event_properties', type: 'JSON' },
      { name: 'flag', type: 'BOOLEAN' },
    ]);
    expect(
      await rows('SELECT id, uuid, event_properties::VARCHAR AS p, flag FROM src.events ORDER BY id'),
    ).toEqual([
      { id: 'a', uuid: null, p: null, flag: null },
      { id: 'b', uuid: null, p: null, flag: null },
      { id: 'c', uuid: 'u-c', p: '{"$value":3,"items":["x"]}', flag: null },
      { id: 'd', uuid: 'u-d', p: null, flag: true },
    ]);
  });

  it('widens BIGINT -> DOUBLE -> VARCHAR across loads and keeps the old values', async () => {
    const t: LoadTarget = { schema: 'src', table: 'w', mode: 'append', windowColumn: 'updated' };
    await load(t, [{ id: '1', updated: 'a', v: 1 }]);
    expect((await dest.tableColumns('src', 'w'))!.find((c) => c.name === 'v')?.type).toBe('BIGINT');
    await load(t, [{ id: '2', updated: 'a', v: 2.5 }]);
    expect((await dest.tableColumns('src', 'w'))!.find((c) => c.name === 'v')?.type).toBe('DOUBLE');
    await load(t, [{ id: '3', updated: 'a', v: 'three' }]);
    expect((await dest.tableColumns('src', 'w'))!.find((c) => c.name === 'v')?.type).toBe('VARCHAR');
    expect(await rows('SELECT id, v FROM src.w ORDER BY id')).toEqual([
      { id: '1', v: '1.0' },
      { id: '2', v: '2.5' },
      { id: '3', v: 'three' },
    ]);
  });

  it('widens within one load across batches (int, then double, then text; JSON then scalar)', async () => {
    const t: LoadTarget = { schema: 'src', table: 'mixed', mode: 'append', windowColumn: null };
    const result = await load(
      t,
      [
        { id: '1', v: 1, j: { a: 1n } },
        { id: '2', v: 2 ** 62, j: [1, 2] },
      ],
      [{ id: '3', v: 0.5, j: 'plain' }],
      [{ id: '4', v: 'x', big: 2n ** 64n, b: false }],
      [{ id: '5', b: 7 }],
    );
    expect(result.inserted).toBe(5);
    const columns = Object.fromEntries(
      (await dest.tableColumns('src', 'mixed'))!.map((c) => [c.name, c.type]),
    );
    expect(columns).toMatchObject({ v: 'VARCHAR', j: 'VARCHAR', big: 'VARCHAR', b: 'VARCHAR' });
    expect(await rows('SELECT id, v, j, big, b FROM src.mixed ORDER BY id')).toEqual([
      { id: '1', v: '1.0', j: '{"a":1}', big: null, b: null },
      { id: '2', v: '4.611686018427388e+18', j: '[1,2]', big: null, b: null },
      { id: '3', v: '0.5', j: 'plain', big: null, b: null },
      { id: '4', v: 'x', j: null, big: '18446744073709551616', b: 'false' },
      { id: '5', v: null, j: null, big: null, b: '7' },
    ]);
  });
});

describe('replace and merge', () => {
  it('replace swaps the contents and keeps the union of columns', async () => {
    const lists: LoadTarget = { schema: 'src', table: 'lists', mode: 'replace', windowColumn: 'updated' };
    await load(lists, [
      { id: 'l1', updated: 'u1', name: 'one', old_attr: 1 },
      { id: 'l2', updated: 'u1', name: 'two', old_attr: 2 },
    ]);
    expect(await load(lists, [{ id: 'l3', updated: 'u2', name: 'three' }])).toEqual({
      inserted: 1,
      duplicatesSkipped: 0,
    });
    expect(await rows('SELECT id, name, old_attr FROM src.lists')).toEqual([
      { id: 'l3', name: 'three', old_attr: null },
    ]);
  });

  it('merge keeps one current row per id: the greatest window value wins, then the last staged', async () => {
    const profiles: LoadTarget = { schema: 'src', table: 'profiles', mode: 'merge', windowColumn: 'updated' };
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
    ]);
    expect(result).toEqual({ inserted: 2, duplicatesSkipped: 2 });
    expect(await rows('SELECT id, email FROM src.profiles ORDER BY id')).toEqual([
      { id: 'p1', email: 'newest1' },
      { id: 'p2', email: 'old2' },
      { id: 'p3', email: 'last3' },
    ]);
  });

  it('merge without any id fails clearly and changes nothing', async () => {
    const t: LoadTarget = { schema: 'src', table: 'noid', mode: 'merge', windowColumn: null };
    await dest.createTableIfMissing('src', 'noid', [{ name: 'time', type: 'BIGINT' }]);
    const session = await dest.openLoad(t);
    await session.write([{ name: 'x' }]);
    await expect(session.commit([logRow()])).rejects.toThrow(/merge mode needs an 'id'/);
    expect(await dest.tableColumns('src', 'noid')).toEqual([{ name: 'time', type: 'BIGINT' }]);
  });
});

describe('maxTimestamp', () => {
  it('is the chronological max over mixed formats, ignoring NULL and garbage; null when empty', async () => {
    await dest.createTableIfMissing('src', 'ts', [
      { name: 'updated', type: 'VARCHAR' },
      { name: 'time', type: 'BIGINT' },
    ]);
    expect(await dest.maxTimestamp('src', 'ts', 'updated')).toBeNull();
    expect(await dest.maxTimestamp('src', 'no_such_table', 'updated')).toBeNull();
    const values = [
      '2025-09-03T10:11:12+00:00',
      '2025-09-03 10:11:12.123+00:00',
      '2025-09-03T10:11:11Z',
      '2025-09-03T12:11:12.500+02:00', // = 10:11:12.500Z, the max
      '2025-09-03T10:11:12.400', // naive = UTC
      '2025-09-04T03:00:00+18:00', // = 2025-09-03T09:00Z; the text max, not the chronological one
      'not a timestamp',
      '',
      null,
    ];
    await load(
      { schema: 'src', table: 'ts', mode: 'append', windowColumn: 'updated' },
      values.map((updated, i) => ({ id: String(i), updated })),
    );
    expect(await dest.maxTimestamp('src', 'ts', 'updated')).toBe(Date.parse('2025-09-03T10:11:12.500Z'));
    await load({ schema: 'src', table: 'ts2', mode: 'append', windowColumn: 'updated' }, [
      { id: '1', updated: 'garbage' },
    ]);
    expect(await dest.maxTimestamp('src', 'ts2', 'updated')).toBeNull();
  });
});

describe('atomicity', () => {
  async function seed() {
    await load(events, [{ id: 'a', datetime: 't1', time: 1, n: 1 }]);
    return tableState('events');
  }

  it.each<CommitStep>(['rows', 'log', 'drop-stage', 'commit'])(
    'a commit failing before step %s leaves table, columns and log exactly as before',
    async (step) => {
      const before = await seed();
      failAt = step;
      const session = await dest.openLoad(events);
      await session.write([{ id: 'b', datetime: 't2', time: 2, n: 1.5, new_column: 'x' }]);
      const error = await session.commit([logRow({ log_id: 'log-2' })]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IngestError);
      expect((error as IngestError).kind).toBe('ingestion');
      expect((error as IngestError).message).toMatch(/injected failure.*|nothing was written/);
      expect(await tableState('events')).toEqual(before);
      expect(
        await rows(
          "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_ki\\_stage%' ESCAPE '\\'",
        ),
      ).toEqual([]);
      await expect(session.write([])).rejects.toThrow(/already finished/);
    },
  );

  it('a log row the table rejects rolls back the rows and schema changes too', async () => {
    const before = await seed();
    await dest
      .query("ALTER TABLE src.ingestion_log ADD CONSTRAINT no_success CHECK (status <> 'SUCCESS')")
      .catch(() => undefined);
    // DuckDB cannot add constraints to existing tables: rebuild the log table with one instead.
    await dest.query('DROP TABLE src.ingestion_log');
    await dest.query(
      "CREATE TABLE src.ingestion_log (log_id VARCHAR, source_name VARCHAR, workflow_name VARCHAR, table_name VARCHAR, status VARCHAR CHECK (status <> 'SUCCESS'), start_time VARCHAR, end_time VARCHAR, records_processed BIGINT, error_message VARCHAR, job_id VARCHAR, job_url VARCHAR, time BIGINT, duration_seconds DOUBLE)",
    );
    const logBefore = await rows('SELECT * FROM src.ingestion_log');
    const session = await dest.openLoad(events);
    await session.write([{ id: 'b', datetime: 't2', time: 2, n: 'text now', extra: 1 }]);
    await expect(session.commit([logRow()])).rejects.toThrow(/CHECK constraint/i);
    const after = await tableState('events');
    expect(after.columns).toEqual(before.columns);
    expect(after.rows).toEqual(before.rows);
    expect(await rows('SELECT * FROM src.ingestion_log')).toEqual(logBefore);
  });

  it('abort drops the stage and leaves the table unchanged', async () => {
    const before = await seed();
    const session = await dest.openLoad(events);
    await session.write([{ id: 'z', datetime: 't9', time: 9, brand_new: { x: 1 } }]);
    await session.abort();
    await session.abort(); // idempotent
    expect(await tableState('events')).toEqual(before);
    expect(
      await rows("SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_ki_stage_')"),
    ).toEqual([]);
  });

  it('stages are connection-local TEMP tables; leftover stage tables in the schema are dropped', async () => {
    // Stages live in the session's TEMP schema, so a killed process leaves nothing behind. Tables with
    // the staging prefix in the target schema (older versions, other tools) are cleaned up anyway.
    await dest.query('CREATE TABLE src._ki_stage_events_deadbeef (ki_seq INTEGER)');
    await dest.query('CREATE TABLE src._ki_stage_profiles_0badf00d (ki_seq INTEGER)');
    const stages = async () =>
      (
        await rows(
          "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_ki_stage_') ORDER BY 1",
        )
      ).map((r) => r.table_name);
    const session = await dest.openLoad(events);
    await session.write([{ id: 'a', datetime: 't', n: 1 }]);
    expect(await stages()).toEqual(['_ki_stage_profiles_0badf00d']); // events' leftover dropped by openLoad
    expect(await dest.cleanupStaleStages('src')).toBe(1);
    expect(await stages()).toEqual([]);
    expect(await session.commit([])).toEqual({ inserted: 1, duplicatesSkipped: 0 });
  });
});

describe('concurrency', () => {
  it('overlapping writes to one session run in order; close waits for a commit in flight', async () => {
    const session = await dest.openLoad(events);
    const batch = (from: number, extra: string) =>
      Array.from({ length: 300 }, (_, i) => ({ id: `e${from + i}`, datetime: 't', [extra]: i }));
    await Promise.all([
      session.write(batch(0, 'x')),
      session.write(batch(300, 'y')),
      session.write(batch(600, 'x')),
    ]);
    const committing = session.commit([logRow()]);
    const closing = dest.close();
    expect(await committing).toEqual({ inserted: 900, duplicatesSkipped: 0 });
    await closing;
    dest = await openDuckDBDestination(dest.path);
    expect(
      await rows('SELECT count(*)::INT AS n, count(x)::INT AS x, count(y)::INT AS y FROM src.events'),
    ).toEqual([{ n: 900, x: 600, y: 300 }]);
  });

  it('runs sessions on different tables at once, interleaving writes and commits', async () => {
    const targets = ['events', 'profiles', 'campaigns'].map(
      (table): LoadTarget => ({ schema: 'src', table, mode: 'append', windowColumn: 'updated' }),
    );
    const sessions = await Promise.all(targets.map((t) => dest.openLoad(t)));
    await Promise.all(
      sessions.map(async (session, s) => {
        for (let batch = 0; batch < 5; batch++) {
          const rows = Array.from({ length: 200 }, (_, i) => ({
            id: `${s}-${batch}-${i}`,
            updated: `2025-09-0${batch + 1}T00:00:00Z`,
            [`attr_${batch}`]: i,
          }));
          await session.write(rows);
        }
      }),
    );
    const results = await Promise.all(
      sessions.map((session, s) => session.commit([logRow({ log_id: `l${s}` })])),
    );
    expect(results).toEqual(targets.map(() => ({ inserted: 1000, duplicatesSkipped: 0 })));
    for (const t of targets) {
      expect(await rows(`SELECT count(*)::INT AS n FROM src.${t.table}`)).toEqual([{ n: 1000 }]);
    }
    expect(await rows('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 3 }]);
  });
});
