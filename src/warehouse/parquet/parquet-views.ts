/**
 * A Parquet dataset folder as DuckDB views: `<schema>.<table>` reads the files its newest committed
 * manifest lists, never a file of a commit in progress or one a commit dropped. `query()` uses them;
 * so can any DuckDB reader that wants commits, not globs.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier } from '../identifiers.js';
import { readSnapshot } from './parquet-commits.js';
import { datasetDir, datasetNames } from './parquet-layout.js';
import { datasetView } from './parquet-sql.js';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The schema folders of a dataset root (those with a usable schema name). */
export async function schemaNames(root: string): Promise<string[]> {
  return (await datasetNames(root)).filter((name) => SCHEMA_NAME.test(name));
}

/**
 * (Re)creates schema `schema` with one view per committed dataset of `root/<schema>`, in `catalog`
 * (an attached database) when given. Returns the datasets' names.
 */
export async function createDatasetViews(
  c: DuckDBConnection,
  root: string,
  schema: string,
  catalog?: string,
): Promise<string[]> {
  const qualified = `${catalog === undefined ? '' : `${quoteIdentifier(catalog)}.`}${quoteIdentifier(schema)}`;
  const snapshot = await readSnapshot(root, schema);
  await c.run(`DROP SCHEMA IF EXISTS ${qualified} CASCADE`);
  await c.run(`CREATE SCHEMA ${qualified}`);
  for (const [table, manifest] of snapshot.datasets) {
    await c.run(
      `CREATE VIEW ${qualified}.${quoteIdentifier(table)} AS ${datasetView(datasetDir(root, schema, table), manifest)}`,
    );
  }
  return [...snapshot.datasets.keys()];
}
