/** The spec's code blocks (the templates init must write byte for byte). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const specPath = path.resolve(repoRoot, 'docs/spec/klaviyo-ingestion-templates.md');

/** The `**File**: X ... EXACT TEMPLATE ... ```yaml` code blocks of the spec, by file name. */
export function specBlocks(): Map<string, string> {
  const spec = readFileSync(specPath, 'utf8');
  const blocks = new Map<string, string>();
  const re = /\*\*File\*\*: `([^`]+)`\n\n\*\*EXACT TEMPLATE\*\*:\n```yaml\n([\s\S]*?)```/g;
  for (const m of spec.matchAll(re)) blocks.set(m[1]!, m[2]!);
  return blocks;
}
