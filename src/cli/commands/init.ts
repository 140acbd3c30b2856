import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXTRA_STREAMS, SEED_STREAMS, type StreamTemplate, templateFiles } from '../../scaffold/index.js';
import { configError } from '../../util/errors.js';

export const DEFAULT_PROJECT_DIR = './ingestion';

export interface InitResult {
  dir: string;
  written: string[];
}

/**
 * `--streams all` or `--streams flows,segments,...`: the streams to add beside the templates' six
 * (naming one of the six is allowed and adds nothing).
 */
export function parseStreamsOption(value: string | undefined): StreamTemplate[] {
  if (value === undefined || value.trim() === '') return [];
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.includes('all')) return [...EXTRA_STREAMS];
  const unknown = names.filter(
    (name) => !SEED_STREAMS.includes(name) && !EXTRA_STREAMS.some((stream) => stream.name === name),
  );
  if (unknown.length > 0) {
    throw configError(`--streams names unknown stream(s): ${unknown.join(', ')}; nothing was written`, {
      code: 'UNKNOWN_STREAM',
      key: '--streams',
      fix: `use all, or a comma-separated list of: ${EXTRA_STREAMS.map((stream) => stream.name).join(', ')}`,
    });
  }
  return EXTRA_STREAMS.filter((stream) => names.includes(stream.name));
}

/** Write the template project into `dir`; refuses to overwrite any file unless `force`. */
export function initProject(
  dir: string,
  options: { force?: boolean; streams?: readonly StreamTemplate[] } = {},
): InitResult {
  const root = path.resolve(dir);
  const files = templateFiles(options.streams);
  const existing = files.map((f) => f.path).filter((rel) => existsSync(path.join(root, rel)));
  if (existing.length > 0 && !options.force) {
    throw configError(
      `refusing to overwrite ${existing.length} existing file(s) in ${dir}: ${existing.join(', ')}`,
      {
        code: 'INIT_WOULD_OVERWRITE',
        file: dir,
        fix: `Pick another folder, or pass --force to replace these files with the templates.`,
      },
    );
  }
  for (const file of files) {
    const target = path.join(root, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content, 'utf8');
  }
  return { dir: root, written: files.map((f) => f.path) };
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a Klaviyo ingestion project (the Treasure Data templates) into DIR')
    .argument('[dir]', 'project folder to create', DEFAULT_PROJECT_DIR)
    .option('--force', 'overwrite files that already exist', false)
    .option(
      '--streams <list>',
      `more streams beside the templates' six: all, or a comma-separated list of ${EXTRA_STREAMS.map((stream) => stream.name).join(', ')}`,
    )
    .action((dir: string, opts: { force: boolean; streams?: string }) => {
      const result = initProject(dir, { force: opts.force, streams: parseStreamsOption(opts.streams) });
      const out = process.stdout;
      out.write(`Wrote ${result.written.length} files to ${dir}:\n`);
      for (const file of result.written) out.write(`  ${path.join(dir, file)}\n`);
      out.write(
        '\nNext steps:\n' +
          `  1. Put your Klaviyo private API key in ${path.join(dir, 'credentials_ingestion.json')}\n` +
          `     (cp ${path.join(dir, 'credentials_ingestion.json.example')} ${path.join(dir, 'credentials_ingestion.json')}),\n` +
          '     or export KLAVIYO_API_KEY=pk_...\n' +
          `  2. Check the project:  klaviyo-ingest validate ${dir}\n` +
          `  3. Load the data:      klaviyo-ingest run inc --project ${dir}\n` +
          '  No key yet? Try:       klaviyo-ingest demo\n',
      );
    });
}
