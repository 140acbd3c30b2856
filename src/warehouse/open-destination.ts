/** `--destination` URL -> Destination. */
import { existsSync } from 'node:fs';
import { configError } from '../util/errors.js';
import type { Destination } from './destination.js';
import { openDuckDBDestination } from './duckdb/duckdb-destination.js';
import { openParquetDestination } from './parquet/parquet-destination.js';
import { describePostgresUrl, openPostgresDestination } from './postgres/postgres-destination.js';

export const DEFAULT_DUCKDB_PATH = './klaviyo.duckdb';

export type DestinationLocation =
  | { kind: 'duckdb'; path: string }
  /** A folder of Hive-partitioned Parquet datasets, one subfolder per schema. */
  | { kind: 'parquet'; path: string }
  /** `url` may hold a password: print `description`, never `url`. */
  | { kind: 'postgres'; url: string; description: string };

const ACCEPTED = `duckdb:<path> (default duckdb:${DEFAULT_DUCKDB_PATH}), duckdb::memory:, parquet:<folder> or postgres://user[:password]@host[:port]/database`;

/** Where the destination URL may come from when `--destination` is not given (keeps passwords off the command line). */
export const DESTINATION_ENV = 'KLAVIYO_INGEST_DESTINATION';

/** `--destination`, else `KLAVIYO_INGEST_DESTINATION`, else undefined (the default DuckDB file). */
export function destinationUrlFrom(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const fromEnv = env[DESTINATION_ENV]?.trim();
  return flag ?? (fromEnv === '' ? undefined : fromEnv);
}

/**
 * What is missing when a destination that is only read does not exist yet, or null when it exists (or
 * cannot be known without connecting: a server).
 */
export function missingDestination(url: string | undefined): string | null {
  const location = parseDestinationUrl(url);
  if (location.kind === 'parquet')
    return existsSync(location.path) ? null : `no Parquet dataset folder at ${location.path}`;
  if (location.kind !== 'duckdb' || location.path === ':memory:') return null;
  return existsSync(location.path) ? null : `no database at ${location.path}`;
}

/** Parses a destination URL without opening anything. */
export function parseDestinationUrl(url: string | undefined): DestinationLocation {
  const text = (url ?? '').trim();
  if (text === '') return { kind: 'duckdb', path: DEFAULT_DUCKDB_PATH };
  if (/^duckdb:/i.test(text)) {
    let path = text.slice('duckdb:'.length);
    // Tolerate URL style: duckdb:///abs/path and duckdb://relative/path.
    if (path.startsWith('//')) path = path.slice(2);
    return { kind: 'duckdb', path: path === '' ? DEFAULT_DUCKDB_PATH : path };
  }
  if (/^parquet:/i.test(text)) {
    let path = text.slice('parquet:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      throw configError(`--destination ${JSON.stringify(text)} needs a local folder: parquet:<folder>`, {
        code: 'DESTINATION_URL',
        key: '--destination',
        fix: 'e.g. --destination parquet:./lake (object storage such as s3:// is not supported yet)',
      });
    }
    return { kind: 'parquet', path };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let description: string;
    try {
      description = describePostgresUrl(text).description;
    } catch {
      throw configError(
        'the PostgreSQL --destination URL cannot be parsed (not shown: it may hold a password)',
        {
          code: 'DESTINATION_URL',
          key: '--destination',
          fix: 'use postgres://user[:password]@host[:port]/database[?sslmode=...], with special characters percent-encoded (or the password in PGPASSWORD)',
        },
      );
    }
    return { kind: 'postgres', url: text, description };
  }
  // Never echo a password of another scheme's URL (scheme://user:password@host).
  const shown = text.replace(/^([^/]*\/\/[^/@:]*):[^/@]*@/, '$1:***@');
  throw configError(`unknown destination ${JSON.stringify(shown)}: --destination accepts ${ACCEPTED}`, {
    code: 'DESTINATION_URL',
    key: '--destination',
    fix: 'e.g. --destination duckdb:./klaviyo.duckdb or --destination postgres://user@localhost:5432/warehouse',
  });
}

/** Opens the destination named by a `--destination` value (undefined = the default DuckDB file). */
export async function openDestination(url: string | undefined): Promise<Destination> {
  const location = parseDestinationUrl(url);
  if (location.kind === 'postgres') return openPostgresDestination(location.url);
  if (location.kind === 'parquet') return openParquetDestination(location.path);
  return openDuckDBDestination(location.path);
}
