/**
 * What only the PostgreSQL destination does: URLs, passwords and connection errors, advisory table
 * locks between runs, the dedupe's index, COPY's text format, columns of PostgreSQL's other types, and
 * the connection's time zone. The destination contract (setup, modes, widening, atomicity, ...) runs
 * for PostgreSQL in destination-contract.test.ts.
 */
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
import { loadBatches, loadTarget } from '../support/destination.js';
import { postgresUrl } from '../support/postgres.js';

const serverUrl = postgresUrl;

let n = 0;
let S = '';
let dest: PostgresDestination;
const others: PostgresDestination[] = [];

beforeEach(async () => {
  S = `ki_t${process.pid}_${n++}`;
  dest = await openPostgresDestination(serverUrl());
  await dest.ensureSchema(S);
});
afterEach(async () => {
  await dest.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`).catch(() => undefined);
  await dest.close();
  for (const other of others.splice(0)) await other.close();
});

const target = (table: string, mode: LoadTarget['mode'], windowColumn: string | null) =>
  loadTarget(S, table, mode, windowColumn);
const events = () => target('events', 'append', 'datetime');

const load = (t: LoadTarget, ...batches: Row[][]) => loadBatches(dest, t, ...batches);

async function rows(sql: string, params: unknown[] = []) {
  return dest.query(sql.replaceAll('src.', `${S}.`), params as (string | number | null)[]);
}

describe('setup', () => {
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

describe('COPY', () => {
  it('writes values that look like COPY text-format markers as themselves', async () => {
    // Rows are staged with COPY ... FROM STDIN (text format): \N is its NULL, \. its end of data,
    // tab and newline its separators. Values that look like them must arrive as they are.
    const values = ['\\N', '\\.', 'a\n\\.\nb', '\r\n', '\t', '\\', '', ' ', 'NULL', 'end\\'];
    await load(
      target('copy', 'append', null),
      values.map((v, i) => ({ id: String(i), v, j: { v } })),
    );
    const read = await rows('SELECT id, v, j::text AS j FROM src.copy ORDER BY id::int');
    expect(read.map((r) => r.v)).toEqual(values);
    expect(read.map((r) => (JSON.parse(r.j as string) as { v: string }).v)).toEqual(values);
  });
});

describe('dedupe index', () => {
  it('the append dedupe looks rows up by an index on (id, window column)', async () => {
    await load(events(), [{ id: 'a', datetime: 't1', time: 1 }]);
    expect(await load(events(), [{ id: 'a', datetime: 't1', time: 2 }])).toEqual({
      inserted: 0,
      duplicatesSkipped: 1,
    });
    expect(
      await rows('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [S, 'events']),
    ).toEqual([{ indexdef: expect.stringMatching(/USING btree \(id, datetime\)$/) }]);
  });
});

describe('column types', () => {
  it('converts columns of other types (varchar(n), integer, real) when new data needs it', async () => {
    await dest.query(`CREATE TABLE ${S}.legacy (updated varchar(20), time integer, id varchar(5), n real)`);
    await dest.query(`INSERT INTO ${S}.legacy VALUES ('u', 1, 'x', 1.5)`);
    await load(target('legacy', 'append', 'updated'), [
      { id: 'longer id', updated: 'v', time: 2 ** 40, n: 2 },
    ]);
    expect(await rows('SELECT id, time, n FROM src.legacy ORDER BY id')).toEqual([
      { id: 'longer id', time: 2n ** 40n, n: 2 },
      { id: 'x', time: 1n, n: 1.5 },
    ]);
  });
});

describe('time zone', () => {
  it('reads naive values as UTC whatever zone the connection starts in', async () => {
    // Here Tokyo, set by the URL: every connection of the destination is set to UTC.
    const tokyo = new URL(serverUrl());
    tokyo.searchParams.set('options', '-c TimeZone=Asia/Tokyo');
    const fresh = await openPostgresDestination(tokyo.toString());
    others.push(fresh);
    expect(await fresh.query("SELECT current_setting('TimeZone') AS zone")).toEqual([{ zone: 'UTC' }]);
    await load(target('ts3', 'append', 'updated'), [{ id: '1', updated: '2025-09-03 10:00:00' }]);
    expect(await fresh.maxTimestamp(S, 'ts3', 'updated')).toBe(Date.parse('2025-09-03T10:00:00Z'));
  });
});

describe('stages', () => {
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
  it('a second run on the same schema fails with DESTINATION_LOCKED, on any of its tables; other schemas load', async () => {
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
    // Another table of the same schema is locked too (one run per schema); the same table name in
    // another schema is free.
    const other = (await second
      .openLoad(target('profiles', 'append', 'updated'))
      .catch((e: unknown) => e)) as IngestError;
    expect(other.code).toBe('DESTINATION_LOCKED');
    expect(other.message).toContain(`${S}.profiles`);
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
});
