import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DUCKDB_ALLOCATOR_CONF,
  DUCKDB_ALLOCATOR_SETTINGS,
} from '../../src/warehouse/duckdb/duckdb-allocator.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

interface Probe {
  conf: string | null;
  before: number;
  filled: number;
  after: number;
}

/**
 * In a fresh process (DuckDB's allocator reads its settings once, at load), loads DuckDB the way the
 * engine does (allocator settings included), fills a TEMP table of ~100 MB, drops it and reports RSS
 * before, full and `waitMs` after, while DuckDB does nothing.
 */
function probe(env: Record<string, string>, waitMs: number): Probe {
  const api = path.join(repoRoot, 'dist/src/warehouse/duckdb/duckdb-api.js');
  const script = `
    const { DuckDBInstance } = await import(${JSON.stringify(api)});
    const mb = () => Math.round(process.memoryUsage.rss() / 1048576);
    const db = await DuckDBInstance.create(':memory:', ${JSON.stringify(DUCKDB_ALLOCATOR_SETTINGS)});
    const c = await db.connect();
    const before = mb();
    await c.run("CREATE TEMP TABLE t AS SELECT range AS i, repeat('x', 200) || range AS s FROM range(400000)");
    const filled = mb();
    await c.run('DROP TABLE t');
    await new Promise((resolve) => setTimeout(resolve, ${waitMs}));
    process.stdout.write(JSON.stringify({ conf: process.env.DUCKDB_JE_MALLOC_CONF ?? null, before, filled, after: mb() }));
  `;
  const base = { ...process.env };
  delete base.DUCKDB_JE_MALLOC_CONF;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...base, ...env },
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Probe;
}

/** Source files under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Our decay and half a second more: ours must have given the pages back by then, DuckDB's own must not. */
const afterOurDecayMs = Number(/dirty_decay_ms:(\d+)/.exec(DUCKDB_ALLOCATOR_CONF)?.[1]) + 500;

describe('DuckDB allocator settings', () => {
  it('hands memory DuckDB freed back to the system within its decay, also while DuckDB is idle', () => {
    expect(afterOurDecayMs).toBeGreaterThan(500);
    const ours = probe({}, afterOurDecayMs);
    expect(ours.conf).toBe(DUCKDB_ALLOCATOR_CONF);
    const grew = ours.filled - ours.before;
    expect(grew).toBeGreaterThan(40);
    expect(ours.after - ours.before).toBeLessThan(grew / 2);
  });

  it("keeps a DUCKDB_JE_MALLOC_CONF the user set (DuckDB's own 5 s decay keeps the pages)", () => {
    const theirs = probe(
      { DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:5000,muzzy_decay_ms:5000' },
      afterOurDecayMs,
    );
    expect(theirs.conf).toBe('dirty_decay_ms:5000,muzzy_decay_ms:5000');
    expect(theirs.after - theirs.before).toBeGreaterThan((theirs.filled - theirs.before) / 2);
  });

  it('loads DuckDB only through duckdb-api.ts, which sets the allocator up first', () => {
    // Any import of the package that is not `import type` loads the library (with verbatimModuleSyntax
    // even `import { type X }` stays as a bare import), and the first one to run fixes the allocator.
    const runtimeImport = /^(?:import|export)\s+(?!type\s)[^;]*?['"]@duckdb\/node-api['"]/m;
    const loaders = sourceFiles(path.join(repoRoot, 'src'))
      .filter((file) => runtimeImport.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(repoRoot, file));
    expect(loaders).toEqual([path.join('src', 'warehouse', 'duckdb', 'duckdb-api.ts')]);
    const api = readFileSync(path.join(repoRoot, 'src/warehouse/duckdb/duckdb-api.ts'), 'utf8');
    const setup = api.search(/^import '\.\/duckdb-allocator\.js';$/m);
    expect(setup).toBeGreaterThan(-1);
    expect(setup).toBeLessThan(api.search(runtimeImport));
  });
});
