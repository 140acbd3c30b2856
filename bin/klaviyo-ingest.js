#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = (path) => new URL(`../dist/src/cli/${path}`, import.meta.url);
const entry = dist('main.js');
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'klaviyo-ingest is not built yet: run `npm install` (or `npm run build`) in its folder.\n',
  );
  process.exit(2);
}
// Output closed early (`klaviyo-ingest init | head -1`): end quietly, as SIGPIPE ends other commands.
const brokenPipe = await import(dist('broken-pipe.js').href);
brokenPipe.exitQuietlyOnBrokenPipe();
// Ingestions run in a child started with glibc malloc and V8 heap settings (src/cli/runtime-tuning.ts).
const tuning = await import(dist('runtime-tuning.js').href);
const problem = tuning.runtimeTuningProblem(process.env);
if (problem) {
  process.stderr.write(`klaviyo-ingest: ${problem}\n`);
  process.exit(2);
}
if (tuning.wantsTunedRelaunch(process.argv.slice(2), process.env)) await tuning.relaunchTuned();
tuning.exitWithLauncher();
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
