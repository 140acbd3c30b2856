import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import { IngestError } from '../../src/util/errors.js';
import { redact } from '../../src/util/redact.js';
import type { LoadTarget } from '../../src/warehouse/destination.js';
import { openDestination, parseDestinationUrl } from '../../src/warehouse/open-destination.js';
import {
  openPostgresDestination,
  type PostgresDestination,
} from '../../src/warehouse/postgres/postgres-destination.js';
import type { CommitStep } from '../../src/warehouse/staged-load.js';
import { logRow } from '../support/destination.js';
import { postgresUrl } from '../support/postgres.js';

const serverUrl = postgresUrl;

let n = 0;
let S = '';
let dest: PostgresDestination;
let failAt: CommitStep | null = null;
const others: PostgresDestination[] = [];

beforeEach(async () => {
  failAt = null;
  S = `ki_t${process.pid}_${n++}`;
  dest = await openPostgresDestination(serverUrl(), {
    hooks: {
      beforeCommitStep: (step) => {
        if (step === failAt) throw new Error(`injected failure before ${step}`);
      },
    },
  });
  await dest.ensureSchema(S);
});
afterEach(async () => {
  await dest.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`).catch(() => undefined);
  await dest.close();
  for (const other of others.splice(0)) await other.close();
});

const target = (table: string, mode: LoadTarget['mode'], windowColumn: string | null): LoadTarget => ({
  schema: S,
  table,
  mode,
  windowColumn,
});
const events = () => target('events', 'append', 'datetime');

async function load(t: LoadTarget, ...batches: Row[][]) {
  const session = await dest.openLoad(t);
  for (const batch of batches) await session.write(batch);
  return session.commit([logRow({ table_name: t.table, records_processed: batches.flat().length })]);
}

async function rows(sql: string, params: unknown[] = []) {
  return dest.query(sql.replaceAll('src.', `${S}.`), params);
}

async function tableState(table: string) {
  return {
    columns: await dest.tableColumns(S, table),
    rows: await rows(`SELECT * FROM src.${table} ORDER BY id NULLS LAST, time`),
    log: await rows('SELECT * FROM src.ingestion_log ORDER BY log_id, time').catch(() => 'no log table'),
  };
}

async function stages() {
  return (
    await rows("SELECT relname FROM pg_class WHERE relkind = 'r' AND starts_with(relname, '_ki_stage_')")
  ).map((r) => r.relname);
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
      await rows('SELECT status, records_processed, time, duration_seconds FROM src.ingestion_log'),
    ).toEqual([{ status: 'STARTED', records_processed: 0n, time: 1_756_771_200n, duration_seconds: null }]);
  });

  it('openDestination opens postgres:// and postgresql:// URLs; the description has no password', async () => {
    const url = new URL(serverUrl());
    const password = decodeURIComponent(url.password);
    expect(password.length).toBeGreaterThan(3);
    const expected = `postgres://${url.username}@${url.host}${url.pathname}`;
    expect(dest.description).toBe(expected);
    expect(parseDestinationUrl(serverUrl())).toEqual({
      kind: 'postgres',
      url: serverUrl(),
      description: expected,
    });
    const other = await openDestination(serverUrl().replace(/^postgres:/, 'postgresql:'));
    try {
      expect(other.description).toBe(expected.replace(/^postgres:/, 'postgresql:'));
      expect(other.description).not.toContain(password);
      await other.ensureSchema(S);
      expect(await other.tableStatus(S)).toEqual([]);
    } finally {
      await other.close();
    }
    expect(redact(`x ${password} y`)).toBe('x *** y');
  });

  it('takes the password from PGPASSWORD when the URL has none', async () => {
    const url = new URL(serverUrl());
    const password = decodeURIComponent(url.password);
    url.password = '';
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = password;
    try {
      const other = await openPostgresDestination(url.toString());
      others.push(other);
      expect(await other.query('SELECT 1::int AS one')).toEqual([{ one: 1 }]);
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
  });

  it('fails to connect with DESTINATION_CONNECT, never showing the password', async () => {
    const url = new URL(serverUrl());
    const wrong = 'Wr0ng-s3cret-pw';
    url.password = wrong;
    const error = await openPostgresDestination(url.toString()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).code).toBe('DESTINATION_CONNECT');
    expect((error as IngestError).message).toMatch(/password authentication failed.*SQLSTATE 28P01/);
    expect((error as IngestError).render()).not.toContain(wrong);
    expect((error as IngestError).render()).toContain(`${url.username}@${url.host}`);

    url.password = wrong;
    url.port = String(Number(new URL(serverUrl()).port) + 1);
    const refused = await openPostgresDestination(url.toString()).catch((e: unknown) => e);
    expect((refused as IngestError).code).toBe('DESTINATION_CONNECT');
    expect((refused as IngestError).message).toMatch(/ECONNREFUSED/);
    expect((refused as IngestError).render()).not.toContain(wrong);
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
      text: 'tab\there, newline\nthere, cr\r, backslash \\N \\ end, emoji 🦆, quote \' and "',
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
    const [first, second] = await rows('SELECT *, json::text AS json_text FROM src.events ORDER BY id');
    expect(first).toMatchObject({
      $value: 12.5,
      'quote"inside': 'c',
      '"); DROP TABLE src.events; --': 'e',
      名前: 'f',
      _: 'g',
      constructor: 'h',
      email: 'lower',
      Email__2: 'upper',
      text: 'tab\there, newline\nthere, cr\r, backslash \\N \\ end, emoji 🦆, quote \' and "',
      // PostgreSQL text cannot hold NUL, nor jsonb an unpaired surrogate: both become U+FFFD.
      nul: 'nul\ufffdinside',
    });
    expect(JSON.parse(first!.json_text as string)).toEqual({
      'a\tb': 'x\\y\n',
      nul: 'z\ufffd',
      lone: '\ufffd',
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
    expect(await rows('SELECT id, datetime, time FROM src.events ORDER BY id NULLS LAST, datetime')).toEqual([
      { id: 'a', datetime: t1, time: 1n },
      { id: 'b', datetime: t1, time: 1n },
      { id: 'b', datetime: t2, time: 2n },
      { id: 'c', datetime: t2, time: 2n },
      { id: null, datetime: t2, time: 2n },
    ]);
    expect(await rows('SELECT count(*)::int AS n FROM src.ingestion_log')).toEqual([{ n: 2 }]);
    // The dedupe looks rows up by an index on (id, window column).
    expect(
      await rows('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [S, 'events']),
    ).toEqual([{ indexdef: expect.stringMatching(/USING btree \(id, datetime\)$/) }]);
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
      await rows(
        'SELECT id, datetime, time FROM src.events ORDER BY id NULLS LAST, datetime NULLS FIRST, time',
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
    expect(await rows('SELECT id, time FROM src.metrics ORDER BY time')).toEqual([
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
      await rows('SELECT id, uuid, event_properties AS p, flag, big, n FROM src.events ORDER BY id'),
    ).toEqual([
      { id: 'a', uuid: null, p: null, flag: null, big: null, n: null },
      { id: 'b', uuid: null, p: null, flag: null, big: null, n: null },
      { id: 'c', uuid: 'u-c', p: '{"items": ["x"], "$value": 3}', flag: null, big: null, n: null },
      { id: 'd', uuid: 'u-d', p: null, flag: true, big: 2n ** 62n, n: -3n },
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
    expect(await rows('SELECT id, v FROM src.w ORDER BY id')).toEqual([
      { id: '1', v: '1' },
      { id: '2', v: '2.5' },
      { id: '3', v: 'three' },
    ]);
  });

  it('widens JSON -> text across loads, and converts columns of other types (varchar(n), integer)', async () => {
    const t = target('j', 'append', 'updated');
    await load(t, [{ id: '1', updated: 'a', j: { a: 1 } }]);
    await load(t, [{ id: '2', updated: 'a', j: 'plain' }]);
    await dest.query(`CREATE TABLE ${S}.legacy (updated varchar(20), time integer, id varchar(5), n real)`);
    await dest.query(`INSERT INTO ${S}.legacy VALUES ('u', 1, 'x', 1.5)`);
    await load(target('legacy', 'append', 'updated'), [
      { id: 'longer id', updated: 'v', time: 2 ** 40, n: 2 },
    ]);
    expect(await dest.tableColumns(S, 'j')).toContainEqual({ name: 'j', type: 'VARCHAR' });
    expect(await rows('SELECT id, j FROM src.j ORDER BY id')).toEqual([
      { id: '1', j: '{"a": 1}' },
      { id: '2', j: 'plain' },
    ]);
    expect(await rows('SELECT id, time, n FROM src.legacy ORDER BY id')).toEqual([
      { id: 'longer id', time: 2n ** 40n, n: 2 },
      { id: 'x', time: 1n, n: 1.5 },
    ]);
  });

  it('widens within one load across batches (int, then double, then text; JSON then scalar)', async () => {
    const t = target('mixed', 'append', null);
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
    const columns = Object.fromEntries((await dest.tableColumns(S, 'mixed'))!.map((c) => [c.name, c.type]));
    expect(columns).toMatchObject({ v: 'VARCHAR', j: 'VARCHAR', big: 'VARCHAR', b: 'VARCHAR' });
    expect(await rows('SELECT id, v, j, big, b FROM src.mixed ORDER BY id')).toEqual([
      { id: '1', v: '1', j: '{"a":1}', big: null, b: null },
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
    expect(await rows('SELECT id, name, old_attr FROM src.lists')).toEqual([
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
      { id: 'p4', updated: null, email: 'null4' },
    ]);
    expect(result).toEqual({ inserted: 3, duplicatesSkipped: 4 });
    expect(await rows('SELECT id, email FROM src.profiles ORDER BY id')).toEqual([
      { id: 'p1', email: 'newest1' },
      { id: 'p2', email: 'old2' },
      { id: 'p3', email: 'last3' },
      { id: 'p4', email: 'real4' },
    ]);
  });

  it('merge without any id fails clearly and changes nothing', async () => {
    const t = target('noid', 'merge', null);
    await dest.createTableIfMissing(S, 'noid', [{ name: 'time', type: 'BIGINT' }]);
    const session = await dest.openLoad(t);
    await session.write([{ name: 'x' }]);
    await expect(session.commit([logRow()])).rejects.toThrow(/merge mode needs an 'id'/);
    expect(await dest.tableColumns(S, 'noid')).toEqual([{ name: 'time', type: 'BIGINT' }]);
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
    // Naive values are UTC whatever zone the connection starts in (here Tokyo, set by the URL).
    const tokyo = new URL(serverUrl());
    tokyo.searchParams.set('options', '-c TimeZone=Asia/Tokyo');
    const fresh = await openPostgresDestination(tokyo.toString());
    others.push(fresh);
    expect(await fresh.query("SELECT current_setting('TimeZone') AS zone")).toEqual([{ zone: 'UTC' }]);
    await load(target('ts3', 'append', 'updated'), [{ id: '1', updated: '2025-09-03 10:00:00' }]);
    expect(await fresh.maxTimestamp(S, 'ts3', 'updated')).toBe(Date.parse('2025-09-03T10:00:00Z'));
  });
});

describe('atomicity', () => {
  async function seed() {
    await load(events(), [{ id: 'a', datetime: 't1', time: 1, n: 1 }]);
    return tableState('events');
  }

  it.each<CommitStep>(['schema', 'rows', 'log', 'drop-stage', 'commit'])(
    'a commit failing before step %s leaves table, columns and log exactly as before',
    async (step) => {
      const before = await seed();
      failAt = step;
      const session = await dest.openLoad(events());
      await session.write([{ id: 'b', datetime: 't2', time: 2, n: 1.5, new_column: 'x' }]);
      const error = await session.commit([logRow({ log_id: 'log-2' })]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IngestError);
      expect((error as IngestError).kind).toBe('ingestion');
      expect((error as IngestError).message).toMatch(/injected failure/);
      expect(await tableState('events')).toEqual(before);
      expect(await stages()).toEqual([]);
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
    await dest.query(
      `ALTER TABLE ${S}.ingestion_log ADD CONSTRAINT no_success CHECK (status <> 'SUCCESS') NOT VALID`,
    );
    const logBefore = await rows('SELECT * FROM src.ingestion_log');
    const session = await dest.openLoad(events());
    await session.write([{ id: 'b', datetime: 't2', time: 2, n: 'text now', extra: 1 }]);
    const error = (await session.commit([logRow()]).catch((e: unknown) => e)) as IngestError;
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(error.message).toContain(`${S}.events`);
    expect(error.message).toMatch(/check constraint "no_success".*SQLSTATE 23514/);
    const after = await tableState('events');
    expect(after.columns).toEqual(before.columns);
    expect(after.rows).toEqual(before.rows);
    expect(await rows('SELECT * FROM src.ingestion_log')).toEqual(logBefore);
  });

  it('abort drops the stage and leaves the table unchanged', async () => {
    const before = await seed();
    const session = await dest.openLoad(events());
    await session.write([{ id: 'z', datetime: 't9', time: 9, brand_new: { x: 1 } }]);
    expect(await stages()).toHaveLength(1);
    await session.abort();
    await session.abort(); // idempotent
    expect(await tableState('events')).toEqual(before);
    expect(await stages()).toEqual([]);
  });

  it('stages are TEMP tables; leftover stage tables in the schema are dropped', async () => {
    await dest.query(`CREATE TABLE ${S}._ki_stage_events_deadbeef (ki_seq integer)`);
    await dest.query(`CREATE TABLE ${S}._ki_stage_profiles_0badf00d (ki_seq integer)`);
    const inSchema = async () =>
      (
        await rows(
          "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND starts_with(tablename, '_ki_stage_') ORDER BY 1",
          [S],
        )
      ).map((r) => r.tablename);
    const session = await dest.openLoad(events());
    await session.write([{ id: 'a', datetime: 't', n: 1 }]);
    expect(await inSchema()).toEqual(['_ki_stage_profiles_0badf00d']); // events' leftover dropped by openLoad
    expect(await dest.cleanupStaleStages(S)).toBe(1);
    expect(await inSchema()).toEqual([]);
    expect(await session.commit([])).toEqual({ inserted: 1, duplicatesSkipped: 0 });
  });
});

describe('many writers', () => {
  it('a second run on the same table fails with DESTINATION_LOCKED; other tables and schemas load', async () => {
    await load(events(), [{ id: 'a', datetime: 't1' }]);
    const second = await openPostgresDestination(serverUrl(), { lockWaitMs: 300 });
    others.push(second);
    const started = Date.now();
    const error = (await second.openLoad(events()).catch((e: unknown) => e)) as IngestError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(error).toBeInstanceOf(IngestError);
    expect(error.code).toBe('DESTINATION_LOCKED');
    expect(error.message).toContain(`${S}.events`);
    expect(error.message).toMatch(/another klaviyo-ingest run/);
    expect(error.fix).toMatch(/wait for the other run to finish/);
    // Another table of the same schema, and the same table name in another schema, are free.
    const profiles = await second.openLoad(target('profiles', 'append', 'updated'));
    await profiles.write([{ id: 'p', updated: 'u' }]);
    expect(await profiles.commit([])).toEqual({ inserted: 1, duplicatesSkipped: 0 });
    await second.ensureSchema(`${S}_b`);
    const elsewhere = await second.openLoad({ ...events(), schema: `${S}_b` });
    await elsewhere.abort();
    await dest.query(`DROP SCHEMA ${S}_b CASCADE`);
    // Once the first run closes, the table is free.
    await dest.close();
    const retried = await second.openLoad(events());
    await retried.write([{ id: 'b', datetime: 't2' }]);
    expect(await retried.commit([])).toEqual({ inserted: 1, duplicatesSkipped: 0 });
    dest = await openPostgresDestination(serverUrl());
  });

  it('waits for the lock while the other run finishes', async () => {
    const first = await dest.openLoad(events());
    const second = await openPostgresDestination(serverUrl(), { lockWaitMs: 5_000 });
    others.push(second);
    const waiting = second.openLoad(events());
    await new Promise((resolve) => setTimeout(resolve, 400));
    await first.write([{ id: 'a', datetime: 't1' }]);
    await first.commit([]);
    await dest.close();
    const session = await waiting;
    await session.write([{ id: 'a', datetime: 't1' }]);
    expect(await session.commit([])).toEqual({ inserted: 0, duplicatesSkipped: 1 });
    dest = await openPostgresDestination(serverUrl());
  });

  it('sessions of one destination on one table overlap without blocking; commits are serialized', async () => {
    const a = await dest.openLoad(events());
    const b = await dest.openLoad(events());
    await Promise.all([
      a.write([{ id: 'x', datetime: 't1', from: 'a' }]),
      b.write([{ id: 'x', datetime: 't1', from: 'b' }]),
    ]);
    const results = await Promise.all([a.commit([]), b.commit([])]);
    expect(results).toContainEqual({ inserted: 1, duplicatesSkipped: 0 });
    expect(results).toContainEqual({ inserted: 0, duplicatesSkipped: 1 });
    expect(await rows('SELECT count(*)::int AS n FROM src.events')).toEqual([{ n: 1 }]);
  });
});

describe('concurrency', () => {
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
    for (const t of targets) {
      expect(await rows(`SELECT count(*)::int AS n FROM src.${t.table}`)).toEqual([{ n: 10_000 }]);
    }
    expect(await rows('SELECT count(*)::int AS n FROM src.ingestion_log')).toEqual([{ n: 3 }]);
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
