/**
 * The PostgreSQL server the destination tests run against: `KLAVIYO_INGEST_TEST_POSTGRES_URL` when set
 * (CI, a shared server), otherwise a throwaway cluster of the system's PostgreSQL binaries
 * (`pg_config --bindir`), started for the test file and removed after it. Meant to be swapped for the
 * shared test infrastructure: only `usePostgresServer()` is used by the tests.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

const run = promisify(execFile);
const ENV = 'KLAVIYO_INGEST_TEST_POSTGRES_URL';

interface Cluster {
  url: string;
  stop(): Promise<void>;
}

/** Registers beforeAll/afterAll; the returned function gives the server's URL (with its password). */
export function usePostgresServer(): () => string {
  let cluster: Cluster | null = null;
  let url = process.env[ENV] ?? '';
  beforeAll(async () => {
    if (url !== '') return;
    cluster = await startCluster();
    url = cluster.url;
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (url === '') throw new Error('the PostgreSQL test server is not started');
    return url;
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function startCluster(): Promise<Cluster> {
  const bindir = (await run('pg_config', ['--bindir'])).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), 'ki-pg-'));
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: run it as the `postgres` user, owning the directory.
  const pgUser = asRoot ? Number((await run('id', ['-u', 'postgres'])).stdout.trim()) : null;
  const own = (path: string) => {
    if (pgUser !== null) chownSync(path, pgUser, pgUser);
  };
  const exec = (binary: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bindir, binary), ...args])
      : run(join(bindir, binary), args);
  own(dir);
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  own(pwfile);
  const data = join(dir, 'data');
  await exec('initdb', [
    '-D',
    data,
    '-U',
    'ki_test',
    '--auth=scram-sha-256',
    `--pwfile=${pwfile}`,
    '--no-sync',
  ]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  return {
    url: `postgres://ki_test:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
