import type { Command } from 'commander';
import { srcSchema } from '../../project/databases.js';
import { loadProject } from '../../project/index.js';
import { configError } from '../../util/errors.js';
import {
  destinationUrlFrom,
  missingDestination,
  parseDestinationUrl,
} from '../../warehouse/open-destination.js';
import { openParquetDestination } from '../../warehouse/parquet/parquet-destination.js';
import { renderTable } from '../render-table.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface CompactFlags {
  project?: string;
  destination?: string;
  schema?: string;
  tables?: string;
  json: boolean;
}

export function registerCompactCommand(program: Command): void {
  program
    .command('compact')
    .description(
      "merge each partition's small Parquet files into one file (parquet: destinations), one atomic commit per table",
    )
    .option('--project <dir>', `project folder, for databases.src (default ${DEFAULT_PROJECT_DIR})`)
    .option('--destination <url>', 'parquet:<folder>; default: $KLAVIYO_INGEST_DESTINATION')
    .option('--schema <name>', 'the schema to compact (default: databases.src of the project)')
    .option(
      '--tables <names>',
      'only these tables (comma separated; default: every table and the ingestion log)',
    )
    .option('--json', 'print JSON', false)
    .action(async (flags: CompactFlags) => {
      const url = destinationUrlFrom(flags.destination, process.env);
      const location = parseDestinationUrl(url);
      if (location.kind !== 'parquet') {
        throw configError('compact works on Parquet datasets only', {
          code: 'CLI_FLAG',
          key: '--destination',
          fix: 'e.g. klaviyo-ingest compact --destination parquet:./lake',
        });
      }
      const missing = missingDestination(url);
      if (missing !== null) {
        throw configError(missing, {
          code: 'DESTINATION_MISSING',
          key: '--destination',
          fix: 'point --destination at the folder a run wrote (parquet:<folder>)',
        });
      }
      const schema = flags.schema ?? srcSchema(loadProject(flags.project ?? DEFAULT_PROJECT_DIR));
      const tables = flags.tables
        ?.split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      const destination = await openParquetDestination(location.path);
      try {
        const results = await destination.compact(schema, tables);
        const text = flags.json
          ? JSON.stringify(results, null, 2)
          : renderTable(
              ['table', 'files merged', 'into', 'rows'],
              results.map((r) => [r.table, String(r.filesBefore), String(r.filesAfter), String(r.rowsAfter)]),
            );
        process.stdout.write(`${text}\n`);
      } finally {
        await destination.close();
      }
    });
}
