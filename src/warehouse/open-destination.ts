/** `--destination` URL -> Destination. */
import { configError } from '../util/errors.js';
import type { Destination } from './destination.js';
import { openDuckDBDestination } from './duckdb/duckdb-destination.js';

export const DEFAULT_DUCKDB_PATH = './klaviyo.duckdb';

export type DestinationLocation = { kind: 'duckdb'; path: string };

const ACCEPTED = `duckdb:<path> (default duckdb:${DEFAULT_DUCKDB_PATH}) or duckdb::memory:`;

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
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    throw configError('PostgreSQL destinations are not supported yet (support comes in a later version)', {
      code: 'DESTINATION_UNSUPPORTED',
      key: '--destination',
      fix: `use ${ACCEPTED}`,
    });
  }
  throw configError(
    `unknown destination ${JSON.stringify(text)}: --destination accepts ${ACCEPTED}; PostgreSQL (postgres://...) support comes later`,
    { code: 'DESTINATION_URL', key: '--destination', fix: `e.g. --destination duckdb:./klaviyo.duckdb` },
  );
}

/** Opens the destination named by a `--destination` value (undefined = the default DuckDB file). */
export async function openDestination(url: string | undefined): Promise<Destination> {
  const location = parseDestinationUrl(url);
  return openDuckDBDestination(location.path);
}
