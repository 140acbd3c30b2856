import type { Command } from 'commander';
import { srcSchema } from '../../project/databases.js';
import { loadProject } from '../../project/index.js';
import { configError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import type { TableStatus } from '../../warehouse/destination.js';
import { destinationUrlFrom, missingDestination, openDestination } from '../../warehouse/open-destination.js';
import { renderTable } from '../render-table.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface StatusFlags {
  project?: string;
  destination?: string;
  schema?: string;
  json: boolean;
}

function when(unixSeconds: number): string {
  return new Date(unixSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** The schema: `--schema`, else the project's databases.src. */
function schemaFor(flags: StatusFlags): string {
  if (flags.schema) return flags.schema;
  return srcSchema(loadProject(flags.project ?? DEFAULT_PROJECT_DIR));
}

function renderStatus(statuses: readonly TableStatus[]): string {
  if (statuses.length === 0) return 'No loads recorded yet (the ingestion log is empty).';
  const rows = statuses.map((s) => [
    s.table,
    s.rows === null ? '(no table)' : String(s.rows),
    s.lastStatus,
    when(s.lastRunAt),
    s.lastSuccess ? when(s.lastSuccess.at) : '-',
    s.lastSuccess?.endTime ?? '-',
    s.lastSuccess ? String(s.lastSuccess.records) : '-',
  ]);
  const table = renderTable(
    ['table', 'rows', 'last run', 'at', 'last success', 'loaded up to', 'rows then'],
    rows,
  );
  const errors = statuses.filter((s) => s.lastError).map((s) => `\n${s.table}: ${s.lastError}`);
  return table + errors.join('');
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show what each table holds and when it was last loaded, from the ingestion log')
    .option('--project <dir>', `project folder, for databases.src (default ${DEFAULT_PROJECT_DIR})`)
    .option(
      '--destination <url>',
      'duckdb:<path> (default duckdb:./klaviyo.duckdb), parquet:<folder> or postgres://user@host:port/database; default: $KLAVIYO_INGEST_DESTINATION',
    )
    .option('--schema <name>', 'the schema to read (default: databases.src of the project)')
    .option('--json', 'print JSON', false)
    .action(async (flags: StatusFlags) => {
      const url = destinationUrlFrom(flags.destination, process.env);
      const missing = missingDestination(url);
      if (missing !== null) {
        throw configError(missing, {
          code: 'DESTINATION_MISSING',
          key: '--destination',
          fix: 'run a workflow first (klaviyo-ingest run inc), or point --destination at the database',
        });
      }
      const schema = schemaFor(flags);
      const destination = await openDestination(url);
      try {
        const statuses = await destination.tableStatus(schema);
        const text = flags.json ? JSON.stringify(statuses, null, 2) : renderStatus(statuses);
        process.stdout.write(`${redact(text)}\n`);
      } finally {
        await destination.close();
      }
    });
}
