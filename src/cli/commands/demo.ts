import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { DEMO_API_KEY, startSimulator } from '../../simulator/index.js';
import { configError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { runProject } from '../../workflow/run-project.js';
import { setExitCode } from '../exit-code.js';
import { renderRunReport, renderStopSummary } from '../render-report.js';
import { listenForStop, signalExitCode } from '../stop-signals.js';
import { initProject } from './init.js';

interface DemoFlags {
  db: string;
  project?: string;
  seed: string;
  events: string;
  profiles: string;
}

function count(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw configError(`--${flag} must be a whole number, got '${value}'`, {
      code: 'CLI_FLAG',
      key: `--${flag}`,
    });
  }
  return Number(value);
}

/**
 * The newcomer's first command: the built-in simulator, the templates' project, the incremental
 * workflow into a DuckDB file. The simulated account's data ends at the start of today (UTC), so
 * running the demo again the same day is a true incremental run that loads nothing twice.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the incremental workflow against the built-in Klaviyo simulator into a DuckDB file')
    .option('--db <path>', 'DuckDB file to load into', './klaviyo.duckdb')
    .option('--project <dir>', 'use this project folder instead of a fresh `init` in a temp folder')
    .option('--seed <n>', 'seed of the simulated account', '42')
    .option('--events <n>', 'events in the simulated account', '20000')
    .option('--profiles <n>', 'profiles in the simulated account', '2000')
    .action(async (flags: DemoFlags) => {
      // SIGINT/SIGTERM stop the run cleanly; the temp project folder goes on every way out.
      const stop = listenForStop((signal) => process.stderr.write(`\n${signal}: stopping the demo\n`));
      try {
        await runDemo(flags, stop.signal, stop.received);
      } finally {
        stop.dispose();
      }
    });
}

async function runDemo(flags: DemoFlags, signal: AbortSignal, received: () => string | null): Promise<void> {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const sim = await startSimulator({
    seed: count('seed', flags.seed),
    events: count('events', flags.events),
    profiles: count('profiles', flags.profiles),
    now: today.getTime(),
  });
  const tempDir = flags.project ? null : mkdtempSync(path.join(os.tmpdir(), 'klaviyo-ingest-demo-'));
  const projectDir = flags.project ?? path.join(tempDir as string, 'ingestion');
  // Also when a second signal exits at once (process.exit skips the finally below).
  const removeTemp = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  process.once('exit', removeTemp);
  try {
    if (!flags.project) initProject(projectDir);
    else if (!existsSync(projectDir)) {
      throw configError(`--project ${projectDir} does not exist`, {
        code: 'PROJECT_NOT_FOUND',
        key: '--project',
        fix: 'create one with `klaviyo-ingest init <dir>`, or leave --project out',
      });
    }
    process.stderr.write(`simulator: ${sim.baseUrl} (demo key, no real Klaviyo account needed)\n`);
    process.stderr.write(`project:   ${projectDir}\n`);
    const report = await runProject({
      projectDir,
      workflow: 'inc',
      destination: `duckdb:${flags.db}`,
      env: { ...process.env, KLAVIYO_API_KEY: DEMO_API_KEY, KLAVIYO_BASE_URL: sim.baseUrl },
      progress: (line) => process.stderr.write(`${redact(line)}\n`),
      warn: (line) => process.stderr.write(`warning: ${redact(line)}\n`),
      signal,
    });
    const stoppedBy = received();
    if (stoppedBy !== null) {
      process.stderr.write(`${redact(renderStopSummary(report, stoppedBy))}\n`);
      setExitCode(signalExitCode(stoppedBy));
      return;
    }
    process.stdout.write(`${redact(renderRunReport(report))}\n`);
    process.stdout.write(
      `\nLoaded into ${flags.db} (schema klaviyo_src, plus klaviyo_src.ingestion_log).\n` +
        'Run it again for an incremental run; with a real key: klaviyo-ingest init && klaviyo-ingest run inc\n',
    );
    if (!report.ok) setExitCode(1);
  } finally {
    process.off('exit', removeTemp);
    removeTemp();
    await sim.close();
  }
}
