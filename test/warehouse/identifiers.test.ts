import { describe, expect, it } from 'vitest';
import { IngestError } from '../../src/util/errors.js';
import {
  columnNameForKey,
  foldIdentifier,
  qualifiedName,
  quoteIdentifier,
  validateIdentifier,
} from '../../src/warehouse/identifiers.js';
import { DEFAULT_DUCKDB_PATH, parseDestinationUrl } from '../../src/warehouse/open-destination.js';

describe('identifiers', () => {
  it('accepts plain configuration identifiers', () => {
    for (const name of ['client_src', '_x', 'A', 'a'.repeat(63), 'klaviyo_events_2']) {
      expect(validateIdentifier(name, 'table name')).toBe(name);
    }
  });

  it('rejects configuration identifiers that are not plain, naming the rule', () => {
    for (const name of ['', '1abc', 'a-b', 'a b', 'a"b', 'a;drop table x', 'a'.repeat(64), 'é']) {
      expect(() => validateIdentifier(name, 'table name')).toThrow(IngestError);
    }
    try {
      validateIdentifier('bad-name', 'table name');
    } catch (error) {
      expect((error as IngestError).kind).toBe('config');
      expect((error as IngestError).render()).toMatch(
        /table name "bad-name".*\n.*letters, digits and underscores/,
      );
    }
  });

  it('quotes hostile column names by doubling double quotes', () => {
    expect(quoteIdentifier('$value')).toBe('"$value"');
    expect(quoteIdentifier('a "quoted" name')).toBe('"a ""quoted"" name"');
    expect(quoteIdentifier('"; DROP TABLE x; --')).toBe('"""; DROP TABLE x; --"');
    expect(qualifiedName('src', 'events')).toBe('"src"."events"');
    expect(() => qualifiedName('src', 'ev ents')).toThrow(IngestError);
  });

  it('maps every record key to a usable column name', () => {
    expect(columnNameForKey('')).toBe('_');
    expect(columnNameForKey('a\u0000b')).toBe('a_b');
    expect(columnNameForKey('Ünïcødé 名前.x')).toBe('Ünïcødé 名前.x');
    expect(foldIdentifier('Email_ÉÀ')).toBe('email_ÉÀ');
  });
});

describe('parseDestinationUrl', () => {
  it('reads duckdb URLs with a default path', () => {
    expect(parseDestinationUrl(undefined)).toEqual({ kind: 'duckdb', path: DEFAULT_DUCKDB_PATH });
    expect(parseDestinationUrl('duckdb:')).toEqual({ kind: 'duckdb', path: DEFAULT_DUCKDB_PATH });
    expect(parseDestinationUrl('duckdb:/tmp/x.duckdb')).toEqual({ kind: 'duckdb', path: '/tmp/x.duckdb' });
    expect(parseDestinationUrl('duckdb:///tmp/x.duckdb')).toEqual({ kind: 'duckdb', path: '/tmp/x.duckdb' });
    expect(parseDestinationUrl('duckdb:data/k.duckdb')).toEqual({ kind: 'duckdb', path: 'data/k.duckdb' });
    expect(parseDestinationUrl('duckdb::memory:')).toEqual({ kind: 'duckdb', path: ':memory:' });
  });

  it('reads parquet: folders; refuses an empty folder and object storage, naming the flag', () => {
    expect(parseDestinationUrl('parquet:./lake')).toEqual({ kind: 'parquet', path: './lake' });
    expect(parseDestinationUrl('parquet:///data/lake')).toEqual({ kind: 'parquet', path: '/data/lake' });
    for (const url of ['parquet:', 'parquet:s3://bucket/lake', 'parquet:gs://bucket/lake']) {
      expect(() => parseDestinationUrl(url)).toThrow(/needs a local folder: parquet:<folder>/);
    }
  });

  it('rejects other schemes with a config error naming --destination and the accepted forms', () => {
    for (const url of ['mysql://h/db', 'klaviyo.duckdb', 'sqlite:x.db', 'mysql://u:hunter22@h/db']) {
      let caught: unknown;
      try {
        parseDestinationUrl(url);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(IngestError);
      const error = caught as IngestError;
      expect(error.kind).toBe('config');
      expect(error.message).toContain('--destination');
      expect(error.message).toContain('duckdb:<path>');
      expect(error.message).toContain('postgres://');
      expect(error.message).toContain('parquet:<folder>');
      expect(error.message).not.toContain('hunter22');
    }
  });

  it('reads postgres:// and postgresql:// URLs, describing them without the password', () => {
    expect(parseDestinationUrl('postgres://u:s3cret@h:5433/db?sslmode=require')).toEqual({
      kind: 'postgres',
      url: 'postgres://u:s3cret@h:5433/db?sslmode=require',
      description: 'postgres://u@h:5433/db',
    });
    expect(parseDestinationUrl('postgresql://h/db')).toMatchObject({ description: 'postgresql://h/db' });
    expect(() => parseDestinationUrl('postgres://u:pa ss@[bad/db')).toThrow(/cannot be parsed/);
    try {
      parseDestinationUrl('postgres://u:pa ss@[bad/db');
    } catch (error) {
      expect((error as IngestError).render()).not.toContain('pa ss');
    }
  });
});
