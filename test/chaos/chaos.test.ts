/**
 * `npm run test:chaos`: the fault-injection suite (issue 5). One file, run in order, so the cases do
 * not compete for the two CI cores and the counters add up to one summary line per destination at
 * the end (`chaos summary (duckdb): ...`, `chaos summary (postgres): ...`). The fault cases run on
 * DuckDB; the process cases (SIGKILL, concurrent runs) on DuckDB, PostgreSQL and Parquet.
 */
import { afterAll } from 'vitest';
import { faultCases } from './faults.cases.js';
import { processCases } from './process.cases.js';
import { summaryLines } from './support.js';

const started = Date.now();

faultCases();
processCases('duckdb');
processCases('postgres');
processCases('parquet');

afterAll(() => {
  process.stdout.write(`\n${summaryLines(Date.now() - started).join('\n')}\n`);
});
