import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestError } from '../../src/util/errors.js';
import { openDestination } from '../../src/warehouse/open-destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-warehouse-');
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill();
  cleanupTempDirs();
});

/** Opens `path` with DuckDB in another process and resolves once it holds the file. */
function holdInChildProcess(path: string): Promise<ChildProcess> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const instance = await DuckDBInstance.create(${JSON.stringify(path)});
    process.stdout.write('ready\\n');
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => { instance.closeSync(); process.exit(0); });
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('ready')) resolve(proc);
    });
    proc.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
  });
}

describe('database file in use', () => {
  it('a second process on the same file gets a clear ingestion error', async () => {
    const path = join(dir, 'locked.duckdb');
    child = await holdInChildProcess(path);
    const error = await openDestination(`duckdb:${path}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).kind).toBe('ingestion');
    expect((error as IngestError).code).toBe('DESTINATION_IN_USE');
    expect((error as IngestError).message).toBe(
      `the database file ${path} is in use by another klaviyo-ingest run (or another program); wait for it to finish`,
    );
    // Once the other process is gone, the file opens.
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.stdin!.end();
    await exited;
    const dest = await openDestination(`duckdb:${path}`);
    await dest.ensureSchema('src');
    await dest.close();
  });
});
