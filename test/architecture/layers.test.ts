/**
 * The layers of docs/ARCHITECTURE.md, enforced: every import in src/ goes to its own folder or to one
 * the table below allows. A folder that reaches up (the HTTP client into the sources, a source into
 * the warehouse) fails here with the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  cli: ['workflow', 'project', 'scaffold', 'sources', 'warehouse', 'klaviyo', 'simulator', 'records', 'util'],
  workflow: ['project', 'sources', 'klaviyo', 'warehouse', 'records', 'util'],
  project: ['scaffold', 'sources', 'klaviyo', 'util'],
  scaffold: [],
  sources: ['klaviyo', 'records', 'util'],
  warehouse: ['records', 'util'],
  klaviyo: ['util'],
  simulator: ['klaviyo', 'util'],
  records: ['util'],
  util: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The top-level folders of src/ that a file imports from (relative imports only). */
function importedLayers(file: string): { specifier: string; layer: string }[] {
  const text = readFileSync(file, 'utf8');
  const found: { specifier: string; layer: string }[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const specifier = match[1] as string;
    const target = path.relative(SRC, path.resolve(path.dirname(file), specifier));
    found.push({ specifier, layer: target.split(path.sep)[0] as string });
  }
  return found;
}

describe('layers', () => {
  const files = sourceFiles(SRC);

  it('every folder of src/ has a place in the table', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(folders).toEqual(Object.keys(ALLOWED).sort());
  });

  it('imports point down only', () => {
    const violations: string[] = [];
    for (const file of files) {
      const own = path.relative(SRC, file).split(path.sep)[0] as string;
      for (const { specifier, layer } of importedLayers(file)) {
        if (layer === own || ALLOWED[own]?.includes(layer)) continue;
        violations.push(`${path.relative(SRC, file)} imports ${specifier} (${own} -> ${layer})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('sees the imports it checks', () => {
    // Guards the check itself: a file known to import across layers is read as doing so.
    const sample = importedLayers(path.join(SRC, 'sources/collection-source.ts')).map((i) => i.layer);
    expect(sample).toEqual(expect.arrayContaining(['klaviyo', 'util', 'sources']));
  });
});
