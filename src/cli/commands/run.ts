import path from 'node:path';
import type { Command } from 'commander';
import { redact } from '../../util/redact.js';
import { DEFAULT_CHECKPOINT } from '../../workflow/load-source.js';
import { runProject } from '../../workflow/run-project.js';
import { setExitCode } from '../exit-code.js';
import { wholeNumberFlag } from '../flags.js';
import { renderRunReport } from '../render-report.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface RunFlags {
  project?: string;
  destination?: string;
  sources?: string;
  start?: string;
  end?: string;
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  checkpointRows?: string;
  checkpointSeconds?: string;
  concurrency?: string;
}

const positive = (flag: string, value: string | undefined) =>
  wholeNumberFlag(flag, value, { min: 1, example: '10000' });

/** `run x.dig` runs a workflow file of its own folder; `run inc|hist` one of --project's. */
function projectAndWorkflow(workflow: string, flags: RunFlags): { projectDir: string; workflow: string } {
  if (workflow.endsWith('.dig') && flags.project === undefined) {
    return { projectDir: path.dirname(workflow), workflow: path.basename(workflow) };
  }
  return { projectDir: flags.project ?? DEFAULT_PROJECT_DIR, workflow };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a workflow of the project (inc, hist, or a .dig file) into the destination')
    .argument('<workflow>', 'inc | hist | path/to/workflow.dig')
    .option('--project <dir>', `project folder (default ${DEFAULT_PROJECT_DIR}, or the .dig file's folder)`)
    .option(
      '--destination <url>',
      'duckdb:<path> (default duckdb:./klaviyo.duckdb), parquet:<folder> or postgres://user@host:port/database; default: $KLAVIYO_INGEST_DESTINATION',
    )
    .option('--sources <names>', 'only these datasources (comma separated names or table names)')
    .option('--start <time>', 'override the window start, e.g. 2025-09-01T00:00:00.000000')
    .option('--end <time>', 'override the window end')
    .option('--dry-run', "print each source's window and first request; write nothing", false)
    .option('--json', 'print the run report as JSON', false)
    .option('--checkpoint-rows <n>', 'commit appends in window order at least every N rows (default 50000)')
    .option('--checkpoint-seconds <s>', '... or at least every S seconds (default 30)')
    .option('--concurrency <n>', 'requests in flight per source (default by the endpoint rate tier)')
    .option(
      '--verbose',
      'print every request, retry and throttle to stderr (the API key is never shown)',
      false,
    )
    .action(async (workflow: string, flags: RunFlags) => {
      const checkpointRows = positive('--checkpoint-rows', flags.checkpointRows);
      const checkpointSeconds = positive('--checkpoint-seconds', flags.checkpointSeconds);
      const concurrency = positive('--concurrency', flags.concurrency);
      const report = await runProject({
        ...(checkpointRows || checkpointSeconds
          ? {
              checkpoint: {
                rows: checkpointRows ?? DEFAULT_CHECKPOINT.rows,
                ms: checkpointSeconds === undefined ? DEFAULT_CHECKPOINT.ms : checkpointSeconds * 1000,
              },
            }
          : {}),
        ...(concurrency ? { concurrency } : {}),
        ...projectAndWorkflow(workflow, flags),
        destination: flags.destination,
        ...(flags.sources
          ? {
              sources: flags.sources
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(flags.start !== undefined ? { start: flags.start } : {}),
        ...(flags.end !== undefined ? { end: flags.end } : {}),
        dryRun: flags.dryRun,
        verbose: flags.verbose,
        progress: (line) => process.stderr.write(`${redact(line)}\n`),
        warn: (line) => process.stderr.write(`warning: ${redact(line)}\n`),
      });
      const text = flags.json ? JSON.stringify(report, null, 2) : renderRunReport(report);
      process.stdout.write(`${redact(text)}\n`);
      if (!report.ok) setExitCode(1);
    });
}
