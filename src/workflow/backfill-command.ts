import { parseDestinationUrl } from '../warehouse/open-destination.js';
import type { RunReport } from './types.js';

/** What the back-fill command needs from the run that found the gap. */
export interface BackfillContext {
  /** As given: `inc`, `hist`, a workflow name or a .dig file name. */
  workflow: string;
  projectDir: string;
  /** `--destination` as given (never printed with a password). */
  destination?: string | undefined;
}

const DEFAULT_PROJECT = ['ingestion', './ingestion'];

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that loads one gap once: the same workflow, project and destination, only this source,
 * the gap as the window. Start-inclusive and end-exclusive like every window, and appends drop rows
 * already present, so it loads exactly the missing period and a second run of it adds nothing.
 */
export function backfillCommand(context: BackfillContext, table: string, start: string, end: string): string {
  const words = ['klaviyo-ingest', 'run', context.workflow];
  if (!DEFAULT_PROJECT.includes(context.projectDir)) words.push('--project', context.projectDir);
  if (context.destination !== undefined) {
    const location = parseDestinationUrl(context.destination);
    // A PostgreSQL URL may hold a password: the command names the server without it.
    words.push('--destination', location.kind === 'postgres' ? location.description : context.destination);
  }
  words.push('--sources', table, '--start', start, '--end', end);
  return words.map(shellWord).join(' ');
}

export function addBackfillCommands(report: RunReport, context: BackfillContext): void {
  for (const source of report.sources) {
    for (const gap of source.gaps ?? [])
      gap.command = backfillCommand(context, source.table, gap.start, gap.end);
  }
}
