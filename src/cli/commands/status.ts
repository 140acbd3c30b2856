import type { Command } from 'commander';
import { srcSchema } from '../../project/databases.js';
import { loadProject } from '../../project/index.js';
import { configError, IngestError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import type { Destination, TableStatus } from '../../warehouse/destination.js';
import {
  destinationUrlFrom,
  missingDestination,
  openDestination,
  parseDestinationUrl,
} from '../../warehouse/open-destination.js';
import { setExitCode } from '../exit-code.js';
import { DESTINATION_OPTION_HELP } from '../flags.js';
import { describeSource, formatDuration } from '../progress/run-progress.js';
import { renderTable } from '../render-table.js';
import { type RunStateFile, readRunState } from '../run-state.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface StatusFlags {
  project?: string;
  destination?: string;
  schema?: string;
  json: boolean;
}

/**
 * A table's state, for people and monitors: `ok` (last run succeeded), `failed` (ERROR), `running`
 * (a run is loading it now), `interrupted` (its last run was killed and no run has closed it yet).
 */
export type TableState = 'ok' | 'failed' | 'running' | 'interrupted';

export interface TableStatusLine extends TableStatus {
  state: TableState;
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

const LAST_RUN_LABEL: Record<TableState, string> = {
  ok: 'SUCCESS',
  failed: 'ERROR',
  running: 'RUNNING',
  interrupted: 'INTERRUPTED',
};

function renderStatus(statuses: readonly TableStatusLine[]): string {
  if (statuses.length === 0) return 'No loads recorded yet (the ingestion log is empty).';
  const rows = statuses.map((s) => [
    s.table,
    s.rows === null ? '(no table)' : String(s.rows),
    LAST_RUN_LABEL[s.state],
    when(s.lastRunAt),
    s.lastSuccess ? when(s.lastSuccess.at) : '-',
    s.lastSuccess?.endTime ?? '-',
    s.lastSuccess ? String(s.lastSuccess.records) : '-',
  ]);
  const table = renderTable(
    ['table', 'rows', 'last run', 'at', 'last success', 'loaded up to', 'rows then'],
    rows,
  );
  const notes = statuses.flatMap((s) => {
    if (s.state === 'failed' && s.lastError) return [`\n${s.table}: ${s.lastError}`];
    if (s.state === 'interrupted') {
      return [
        `\n${s.table}: the run that started at ${when(s.lastRunAt)} never finished (killed); the next run logs it as interrupted and resumes from the table's max`,
      ];
    }
    return [];
  });
  return table + notes.join('');
}

/** Tables from the ingestion log, STARTED-last ones told apart: a run holds them, or none does (killed). */
async function readStatuses(destination: Destination, schema: string): Promise<TableStatusLine[]> {
  const statuses = await destination.tableStatus(schema);
  const unfinished = statuses.some((s) => s.lastStatus === 'STARTED')
    ? new Set((await destination.unfinishedLoads(schema)).map((u) => u.table))
    : new Set<string>();
  return statuses.map((s) => ({
    ...s,
    state:
      s.lastStatus === 'SUCCESS'
        ? 'ok'
        : s.lastStatus === 'ERROR'
          ? 'failed'
          : unfinished.has(s.table)
            ? 'interrupted'
            : 'running',
  }));
}

/** A DuckDB file another process holds: what its run-state file says. */
function renderRunInProgress(file: string, state: RunStateFile): string {
  const now = Date.now();
  const started = Date.parse(state.startedAt);
  const lines = [
    `${file} is being loaded by run ${state.runId} (pid ${state.pid}, ${state.workflow}), started ${state.startedAt} (${formatDuration(now - started)} ago); progress as of ${state.updatedAt}:`,
  ];
  for (const s of state.sources) {
    const detail =
      s.phase === 'loading'
        ? describeSource(s, now)
        : s.phase === 'done'
          ? `${s.table}: done, ${s.committed} rows loaded`
          : s.phase === 'failed'
            ? `${s.table}: failed: ${s.error ?? ''}`
            : `${s.table}: waiting`;
    lines.push(`  ${detail}`);
  }
  lines.push('The ingestion log and row counts can be read once the run ends.');
  return lines.join('\n');
}

/** Exit 1 when a monitor should look: a table's last run failed or was interrupted. */
function needsAttention(states: readonly TableState[]): boolean {
  return states.some((s) => s === 'failed' || s === 'interrupted');
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'show what each table holds and when it was last loaded, from the ingestion log (also during a run);\n' +
        "exits 1 when a table's last run failed or was interrupted",
    )
    .option('--project <dir>', `project folder, for databases.src (default ${DEFAULT_PROJECT_DIR})`)
    .option('--destination <url>', DESTINATION_OPTION_HELP)
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
      const location = parseDestinationUrl(url);
      let destination: Destination;
      try {
        destination = await openDestination(url);
      } catch (error) {
        // A DuckDB file a run holds: its run-state file tells how the run is doing.
        if (location.kind !== 'duckdb' || !(error instanceof IngestError)) throw error;
        const state = error.code === 'DESTINATION_IN_USE' ? readRunState(location.path) : null;
        if (!state?.alive) throw error;
        const failed = state.sources.some((s) => s.phase === 'failed');
        const text = flags.json
          ? JSON.stringify(
              state.sources.map((s) => ({
                table: s.table,
                rows: null,
                lastStatus: 'STARTED',
                state: s.phase === 'failed' ? 'failed' : 'running',
                run: {
                  runId: state.runId,
                  pid: state.pid,
                  startedAt: state.startedAt,
                  updatedAt: state.updatedAt,
                },
                progress: s,
              })),
              null,
              2,
            )
          : renderRunInProgress(location.path, state);
        process.stdout.write(`${redact(text)}\n`);
        if (failed) setExitCode(1);
        return;
      }
      try {
        const statuses = await readStatuses(destination, schema);
        const text = flags.json ? JSON.stringify(statuses, null, 2) : renderStatus(statuses);
        process.stdout.write(`${redact(text)}\n`);
        if (needsAttention(statuses.map((s) => s.state))) setExitCode(1);
      } finally {
        await destination.close();
      }
    });
}
