import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { configError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { destinationUrlFrom } from '../../warehouse/open-destination.js';
import { type QueryResult, runReadOnlyQuery } from '../../warehouse/read-only-query.js';
import { renderTable } from '../render-table.js';

const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** Cells longer than this are cut in the table format (csv and json keep every character). */
const TABLE_CELL_MAX = 80;

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const full = text(value).replace(/\s+/g, ' ');
  return full.length > TABLE_CELL_MAX ? `${full.slice(0, TABLE_CELL_MAX - 1)}…` : full;
}

export function renderQueryResult(result: QueryResult, format: Format): string {
  switch (format) {
    case 'json':
      return JSON.stringify(
        result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i] ?? null]))),
        null,
        2,
      );
    case 'csv':
      return stringify([result.columns, ...result.rows.map((row) => row.map(text))]).trimEnd();
    case 'table': {
      const table = renderTable(
        result.columns,
        result.rows.map((row) => row.map(cell)),
      );
      return `${table}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
    }
  }
}

function formatOf(value: string): Format {
  if ((FORMATS as readonly string[]).includes(value)) return value as Format;
  throw configError(`--format must be one of ${FORMATS.join(', ')}, got '${value}'`, {
    code: 'CLI_FLAG',
    key: '--format',
    fix: 'e.g. --format csv',
  });
}

export function registerQueryCommand(program: Command): void {
  program
    .command('query')
    .description('run one read-only SQL statement on the destination and print the result')
    .argument('<sql>', 'one SQL statement, e.g. "SELECT count(*) FROM klaviyo_src.klaviyo_events"')
    .option(
      '--destination <url>',
      'duckdb:<path> (default duckdb:./klaviyo.duckdb) or postgres://user@host:port/database; default: $KLAVIYO_INGEST_DESTINATION',
    )
    .option('--format <format>', `${FORMATS.join(' | ')}`, 'table')
    .action(async (sql: string, flags: { destination?: string; format: string }) => {
      const format = formatOf(flags.format);
      if (sql.trim() === '') {
        throw configError('the SQL statement is empty', {
          code: 'QUERY_EMPTY',
          key: '<sql>',
          fix: 'e.g. klaviyo-ingest query "SELECT count(*) FROM klaviyo_src.klaviyo_events"',
        });
      }
      const result = await runReadOnlyQuery(destinationUrlFrom(flags.destination, process.env), sql);
      process.stdout.write(`${redact(renderQueryResult(result, format))}\n`);
    });
}
