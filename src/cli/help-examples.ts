/**
 * The examples at the end of each command's `--help`. Kept in one place so they read as a set; an
 * example that uses an option a command does not have (yet) is left out, and
 * test/cli/help.test.ts checks every option an example uses against the command.
 */
import type { Command } from 'commander';

interface Example {
  command: string;
  what: string;
}

export const HELP_EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  demo: [
    { command: 'klaviyo-ingest demo', what: 'simulated account -> ./klaviyo.duckdb' },
    { command: 'klaviyo-ingest demo --db /tmp/demo.duckdb --events 100000', what: 'a bigger account' },
  ],
  init: [
    { command: 'klaviyo-ingest init', what: 'writes ./ingestion' },
    { command: 'klaviyo-ingest init my-project --force', what: 'overwrites the template files' },
  ],
  validate: [
    { command: 'klaviyo-ingest validate', what: 'checks ./ingestion' },
    { command: 'klaviyo-ingest validate my-project --json', what: 'findings as JSON (exit 1 on errors)' },
  ],
  run: [
    {
      command: 'klaviyo-ingest run inc --start 2026-01-01 --end 2026-01-02',
      what: 'a small test window first',
    },
    { command: 'klaviyo-ingest run inc', what: "from each table's max to now" },
    {
      command: 'klaviyo-ingest run hist --sources events,profiles',
      what: 'two sources of the hist workflow',
    },
    { command: 'klaviyo-ingest run inc --dry-run', what: 'windows and first requests; writes nothing' },
    {
      command: "klaviyo-ingest run inc --destination 'postgres://loader@db:5432/analytics' --json",
      what: 'into PostgreSQL, report as JSON',
    },
    { command: 'klaviyo-ingest run inc --every 1h', what: 'keeps running, one run an hour' },
  ],
  status: [
    { command: 'klaviyo-ingest status', what: 'tables of ./klaviyo.duckdb' },
    {
      command: "klaviyo-ingest status --destination 'postgres://loader@db:5432/analytics' --json",
      what: 'for a monitor',
    },
  ],
  verify: [
    { command: 'klaviyo-ingest verify', what: "events tables vs Klaviyo's daily counts per metric" },
    {
      command: 'klaviyo-ingest verify --start 2025-10-01 --end 2025-11-01 --repair',
      what: 're-read the differing days of October',
    },
    { command: 'klaviyo-ingest verify --json', what: 'the report as data (exit 1 when a day differs)' },
  ],
  simulate: [
    { command: 'klaviyo-ingest simulate --events 100000', what: 'prints the base URL and the demo key' },
    {
      command: 'klaviyo-ingest simulate --rate-limits scaled:0.5 --faults 503x3@events',
      what: 'tighter limits, three 503s on events',
    },
  ],
  query: [
    {
      command: 'klaviyo-ingest query "SELECT count(*) FROM klaviyo_src.klaviyo_events"',
      what: 'read-only, on ./klaviyo.duckdb',
    },
    {
      command:
        'klaviyo-ingest query "SELECT table_name, status, end_time FROM klaviyo_src.ingestion_log ORDER BY time DESC LIMIT 5" --format csv',
      what: 'the last log rows as CSV',
    },
    {
      command:
        'klaviyo-ingest query "SELECT * FROM klaviyo_src.klaviyo_lists" --destination \'postgres://reader@db/analytics\' --format json',
      what: 'on PostgreSQL, as JSON',
    },
  ],
  'add-source': [
    {
      command: 'klaviyo-ingest add-source flows --table-field updated --api-field updated',
      what: 'a flows datasource in both workflows',
    },
    {
      command: 'klaviyo-ingest add-source segments --table-field updated --api-field updated --workflow inc',
      what: 'only in the incremental workflow',
    },
  ],
};

/** The options an example line uses (`--sources`, ...). */
export function optionsUsed(example: string): string[] {
  return [...example.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1] as string);
}

function renderExamples(command: Command, examples: readonly Example[]): string | null {
  const known = new Set(command.options.map((o) => o.long).filter(Boolean));
  known.add('--help');
  const usable = examples.filter((e) => optionsUsed(e.command).every((flag) => known.has(flag)));
  if (usable.length === 0) return null;
  const lines = usable.flatMap((e) => [`  # ${e.what}`, `  $ ${e.command}`]);
  return `\nExamples:\n${lines.join('\n')}`;
}

/** Adds "Examples:" to the `--help` of every command that has some. */
export function addHelpExamples(program: Command): void {
  for (const command of program.commands) {
    const examples = HELP_EXAMPLES[command.name()];
    const text = examples ? renderExamples(command, examples) : null;
    if (text) command.addHelpText('after', text);
  }
  program.addHelpText(
    'after',
    '\nExamples:\n  $ klaviyo-ingest demo\n  $ klaviyo-ingest init && klaviyo-ingest validate\n  $ klaviyo-ingest run inc --start 2026-01-01 --end 2026-01-02\n  $ klaviyo-ingest query "SELECT count(*) FROM klaviyo_src.klaviyo_events"\n\nEach command has examples in its --help (klaviyo-ingest run --help).',
  );
}
