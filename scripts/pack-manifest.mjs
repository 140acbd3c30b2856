#!/usr/bin/env node
/**
 * The package.json that `npm pack` (and `npm publish`) puts in the tarball, without `prepare`.
 *
 * `prepare` builds dist/ when a clone runs `npm ci`. In a tarball it means nothing (dist/ is in it,
 * and TypeScript is not installed there), but npm counts `prepare` of a non-registry package among
 * its install scripts: `npm install -g ./klaviyo-ingest-*.tgz` warns about it, and fails under
 * `strict-allow-scripts`. So `prepack` builds, then `strip` takes it out of package.json (keeping the
 * file as it was in package.json.prepack); `postpack` runs `restore`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = path.join(root, 'package.json');
const saved = `${manifest}.prepack`;

function restore() {
  if (existsSync(saved)) renameSync(saved, manifest);
}

function strip() {
  restore(); // a pack that failed before postpack left the original here
  const text = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  if (!pkg.scripts?.prepare) return;
  writeFileSync(saved, text);
  delete pkg.scripts.prepare;
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
}

const command = process.argv[2];
if (command === 'strip') strip();
else if (command === 'restore') restore();
else {
  process.stderr.write('usage: node scripts/pack-manifest.mjs strip|restore\n');
  process.exit(2);
}
