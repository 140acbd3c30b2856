/**
 * Issue 5: bad input never half-works, and API keys never leak. Each case drives the real CLI
 * against the simulator and checks the one-paragraph message (file/key or source + request, and
 * the fix), the exit code, and that the DuckDB file is unchanged (config errors: not a byte
 * written, not even created, no request sent; API errors: data tables unchanged, only
 * STARTED/ERROR rows added to ingestion_log).
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, ENDPOINT_NAMES, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type CliResult, runCli } from '../support/cli-in-process.js';
import { runCliProcess } from '../support/cli-process.js';
import { edit, freshProject } from '../support/project.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';
import {
  addedRows,
  dumpText,
  fileFingerprint,
  SECRET_KEY,
  SECRET_TAIL,
  snapshotTables,
  startRevisionRejectingApi,
} from './bad-input-support.js';

/** A second accepted key that does not look like `pk_...`: only the registered-secret redaction can hide it. */
const ODD_SECRET = 'klaviyo-ODDSECRET-9f8e7d6c5b4a3210';
const WRONG_KEY = 'pk_wrongkey_0000000000000000000000';

let sim: Simulator;
let work: string;
let simLog: string;
let baseProject: string;
let baseDb: string;
let env: Record<string, string | undefined>;
let dbCount = 0;

function newDbPath(): string {
  dbCount += 1;
  return path.join(work, `db-${dbCount}.duckdb`);
}

/** A copy of the baseline database (one successful `run inc`), for a case to run against. */
function copyOfBase(): string {
  const db = newDbPath();
  copyFileSync(baseDb, db);
  return db;
}

function runArgs(project: string, db: string, ...extra: string[]): string[] {
  return ['run', 'inc', '--project', project, '--destination', `duckdb:${db}`, ...extra];
}

/** stderr without warning lines: the error paragraph. */
function errorParagraph(result: { stderr: string }): string {
  return result.stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('warning:'))
    .join('\n');
}

const allScopesBut = (missing: string) =>
  ENDPOINT_NAMES.map((e) => CATALOG[e].scopes[0] ?? '').filter((s) => s && s !== missing);

beforeAll(async () => {
  work = tempDir('ki-bad-input-');
  simLog = path.join(work, 'simulator.jsonl');
  sim = await startSimulator({
    seed: 5,
    rateLimits: 'off',
    apiKeys: [SECRET_KEY, ODD_SECRET],
    profiles: 60,
    events: 300,
    logFile: simLog,
  });
  env = { KLAVIYO_API_KEY: SECRET_KEY, KLAVIYO_BASE_URL: sim.baseUrl, KLAVIYO_REVISION: undefined };
  baseProject = freshProject();
  baseDb = path.join(work, 'base.duckdb');
  const first = await runCli(runArgs(baseProject, baseDb), env);
  expect(first.code, first.stderr + first.stdout).toBe(0);
});

afterAll(async () => {
  await sim?.close();
  cleanupTempDirs();
});

describe('config errors: exit 2, one paragraph with file/key and fix, nothing touched, no request', () => {
  /**
   * Runs the broken project against a copy of the baseline DB (must stay byte-identical) and against a
   * fresh path (must not be created). Returns the error paragraph.
   */
  async function expectConfigError(
    project: string,
    options: { args?: string[]; env?: Record<string, string | undefined> } = {},
  ): Promise<string> {
    const requestsBefore = sim.requestLog().length;
    const db = copyOfBase();
    const before = fileFingerprint(db);
    const result = await runCli(runArgs(project, db, ...(options.args ?? [])), {
      ...env,
      ...options.env,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(fileFingerprint(db)).toBe(before);

    const fresh = newDbPath();
    const again = await runCli(runArgs(project, fresh, ...(options.args ?? [])), {
      ...env,
      ...options.env,
    });
    expect(again.code).toBe(2);
    expect(existsSync(fresh), 'the database file was created').toBe(false);
    expect(sim.requestLog().length, 'a request was sent').toBe(requestsBefore);

    const paragraph = errorParagraph(result);
    // One paragraph: the problem on one line, the fix on the next.
    const lines = paragraph.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^klaviyo-ingest: /);
    expect(lines[1]).toMatch(/^ {2}fix: \S/);
    return paragraph;
  }

  it('malformed YAML names the file and line', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_datasources.yml', (t) =>
      t.replace('  - name: lists\n', '  - name: lists\n    bad: [unclosed, list\n'),
    );
    const text = readFileSync(path.join(project, 'config/klaviyo_datasources.yml'), 'utf8');
    const badLine = text.slice(0, text.indexOf('bad: [unclosed')).split('\n').length;
    const message = await expectConfigError(project);
    expect(message).toMatch(
      new RegExp(
        `^klaviyo-ingest: config/klaviyo_datasources\\.yml, line (${badLine}|${badLine + 1}): YAML syntax error: `,
      ),
    );
    expect(message).toContain('[YAML_SYNTAX]');
    expect(message).toContain(
      'fix: Fix the YAML syntax at that line (indentation, quotes, a missing colon).',
    );
  });

  it('a misspelt datasource key is an error with "did you mean"', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_datasources.yml', (t) =>
      t.replace(
        'table_name: klaviyo_profiles\n    config_file: klaviyo_profiles_load.yml\n    incremental_field: updated',
        'table_name: klaviyo_profiles\n    config_file: klaviyo_profiles_load.yml\n    incremental_feild: updated',
      ),
    );
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /^klaviyo-ingest: config\/klaviyo_datasources\.yml, line \d+, key 'inc_datasources\[4\]\.incremental_feild': unknown key 'incremental_feild' in datasource profiles: did you mean 'incremental_field'\? \[UNKNOWN_KEY\]/,
    );
    expect(message).toContain("fix: Rename 'incremental_feild' to 'incremental_field'.");
  });

  it('a misspelt key under a load config in: is an error with "did you mean"', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_profiles_load.yml', (t) =>
      t.replace('  incremental_field: ${datasource', '  incremental_feild: ${datasource'),
    );
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /^klaviyo-ingest: config\/klaviyo_profiles_load\.yml, line 8, key 'in\.incremental_feild': unknown key 'incremental_feild' in the in: section: did you mean 'incremental_field'\? \[UNKNOWN_KEY\]/,
    );
    expect(message).toContain("fix: Rename 'incremental_feild' to 'incremental_field'.");
  });

  it('default_start_time without the time part names the key and the format', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_datasources.yml', (t) =>
      t.replace(
        'table_name: klaviyo_events\n    config_file: klaviyo_events_load.yml\n    incremental_field: datetime\n    incremental_field_connector: datetime\n    default_start_time: "2025-09-01T00:00:00.000000"',
        'table_name: klaviyo_events\n    config_file: klaviyo_events_load.yml\n    incremental_field: datetime\n    incremental_field_connector: datetime\n    default_start_time: "2025-09-01"',
      ),
    );
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /^klaviyo-ingest: config\/klaviyo_datasources\.yml, line \d+, key 'inc_datasources\[0\]\.default_start_time': default_start_time "2025-09-01" lacks the 'T' separator \("Invalid timestamp format"\) \[TIME_FORMAT\]$/m,
    );
    expect(message).toContain('fix: Write the time as "YYYY-MM-DDTHH:MM:SS.000000"');
  });

  it('--start yesterday is refused before anything runs', async () => {
    const message = await expectConfigError(baseProject, { args: ['--start', 'yesterday'] });
    expect(message).toBe(
      "klaviyo-ingest: key '--start': --start 'yesterday' is not a timestamp; nothing was run\n" +
        '  fix: write a UTC date or time, e.g. --start 2025-09-01T00:00:00.000000 or --start 2025-09-01',
    );
  });

  it('a missing load config names the datasource, the key and the file to create', async () => {
    const project = freshProject();
    rmSync(path.join(project, 'config/klaviyo_lists_load.yml'));
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /^klaviyo-ingest: config\/klaviyo_datasources\.yml, line \d+, key '(hist|inc)_datasources\[3\]\.config_file': config_file klaviyo_lists_load\.yml of datasource lists: config\/klaviyo_lists_load\.yml does not exist \[CONFIG_FILE_MISSING\]/,
    );
    expect(message).toContain('fix: Create config/klaviyo_lists_load.yml');
  });

  it('an unsafe table_name is refused before any SQL', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_datasources.yml', (t) =>
      t.replace('table_name: klaviyo_events\n', 'table_name: klaviyo_events; DROP TABLE x\n'),
    );
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /^klaviyo-ingest: config\/klaviyo_datasources\.yml, line \d+, key 'inc_datasources\[0\]\.table_name': table_name "klaviyo_events; DROP TABLE x" is not a safe identifier \[UNSAFE_TABLE_NAME\]/,
    );
    expect(message).toContain('fix: Use letters, digits and underscores only');
  });

  it('an unsafe schema (database.yml src) is refused before any SQL', async () => {
    const project = freshProject();
    edit(project, 'config/database.yml', (t) =>
      t.replace('src: klaviyo_src', `src: 'klaviyo_src"; DROP SCHEMA main; --'`),
    );
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /^klaviyo-ingest: config\/database\.yml, line 2, key 'databases\.src': database name "klaviyo_src"; DROP SCHEMA main; --" is not a safe identifier \[UNSAFE_IDENTIFIER\]/,
    );
  });

  it('an unsafe incremental_field is refused before any SQL', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_datasources.yml', (t) =>
      t.replace(
        'table_name: klaviyo_email_templates\n    config_file: klaviyo_email_templates_load.yml\n    incremental_field: updated',
        `table_name: klaviyo_email_templates\n    config_file: klaviyo_email_templates_load.yml\n    incremental_field: 'updated"; DROP TABLE x; --'`,
      ),
    );
    const message = await expectConfigError(project);
    expect(message).toMatch(
      /key 'inc_datasources\[1\]\.incremental_field': incremental_field "updated"; DROP TABLE x; --" is not a safe column name \[UNSAFE_IDENTIFIER\]/,
    );
  });

  it('a malformed KLAVIYO_REVISION is caught before any request', async () => {
    const message = await expectConfigError(baseProject, { env: { KLAVIYO_REVISION: '2025-13-45' } });
    expect(message).toBe(
      `klaviyo-ingest: (environment), key 'KLAVIYO_REVISION': API revision "2025-13-45" is not a real date; Klaviyo rejects every request with it [REVISION_INVALID]\n` +
        '  fix: Set KLAVIYO_REVISION to a Klaviyo API revision such as 2026-07-15 (YYYY-MM-DD), or unset it to use 2026-07-15.',
    );
  });

  it('a revision older than any Klaviyo revision is caught before any request', async () => {
    const message = await expectConfigError(baseProject, { env: { KLAVIYO_REVISION: '2019-01-01' } });
    expect(message).toContain(
      `key 'KLAVIYO_REVISION': API revision "2019-01-01" is older than Klaviyo's first API revision (2022-10-17)`,
    );
  });

  it('a malformed klaviyo_revision_time names the credentials file and key', async () => {
    const project = freshProject();
    const file = path.join(project, 'credentials_ingestion.json');
    writeFileSync(file, JSON.stringify({ klaviyo_api_token: SECRET_KEY, klaviyo_revision_time: 'latest' }));
    chmodSync(file, 0o600);
    const message = await expectConfigError(project, { env: { KLAVIYO_API_KEY: undefined } });
    expect(message).toMatch(
      /^klaviyo-ingest: \S*credentials_ingestion\.json, key 'klaviyo_revision_time': API revision "latest" is not in the YYYY-MM-DD format/,
    );
    expect(message).toContain(
      'fix: Set "klaviyo_revision_time" to a Klaviyo API revision such as "2026-07-15"',
    );
    expect(message).not.toContain(SECRET_TAIL);
  });

  it('the real binary exits 2 on a config error', async () => {
    const project = freshProject();
    edit(project, 'config/klaviyo_datasources.yml', (t) =>
      t.replace('  - name: lists\n', '  - name: lists\n  : :\n'),
    );
    const db = newDbPath();
    const result = await runCliProcess(runArgs(project, db), { env: { ...env, KLAVIYO_REVISION: '' } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^klaviyo-ingest: config\/klaviyo_datasources\.yml, line \d+: /);
    expect(existsSync(db)).toBe(false);
  });
});

describe('API errors: exit 1, the failing source and request named, data tables unchanged', () => {
  /** Data tables identical; ingestion_log only gained STARTED / ERROR rows. Returns the added log rows. */
  async function expectDataUnchanged(
    before: Record<string, string[]>,
    db: string,
    except: string[] = [],
  ): Promise<Record<string, unknown>[]> {
    const after = await snapshotTables(db);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const table of Object.keys(before)) {
      if (table.endsWith('.ingestion_log') || except.includes(table)) continue;
      expect(after[table], table).toEqual(before[table]);
    }
    const log = Object.keys(before).find((t) => t.endsWith('.ingestion_log'))!;
    return addedRows(before[log]!, after[log]!).map((r) => JSON.parse(r) as Record<string, unknown>);
  }

  it('a wrong key from the environment: 401 stops the run, named once, names env KLAVIYO_API_KEY, never the key', async () => {
    const db = copyOfBase();
    const before = await snapshotTables(db);
    const result = await runCli(runArgs(baseProject, db), { ...env, KLAVIYO_API_KEY: WRONG_KEY });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /\w+ \(klaviyo_\w+\) failed: Klaviyo API GET http:\/\/127\.0\.0\.1:\d+\/api\/\S+ failed with 401 Unauthorized: "Missing or invalid authorization" .*The API key from env KLAVIYO_API_KEY was rejected: use a private API key \(it starts with pk_\) from Klaviyo > Settings > API keys\.\n {2}fix: set KLAVIYO_API_KEY to a valid private API key/,
    );
    expect(result.stdout).toContain('0 of 6 sources ok');
    // The whole run stops on the first 401: the paragraph once, the other sources one line each.
    expect(result.stdout.match(/401 Unauthorized/g)).toHaveLength(1);
    expect(result.stdout).toContain('(stopped: KLAVIYO_AUTH)');
    const all = result.stdout + result.stderr;
    expect(all).not.toContain(WRONG_KEY);
    expect(all).not.toContain('wrongkey_000');
    const added = await expectDataUnchanged(before, db);
    expect(added.every((r) => r.status === 'STARTED' || r.status === 'ERROR')).toBe(true);
    expect(added.some((r) => String(r.error_message).includes('401 Unauthorized'))).toBe(true);
    expect(JSON.stringify(added)).not.toContain('wrongkey_000');
  });

  it('a wrong key from credentials_ingestion.json: the real binary exits 1 and names the file', async () => {
    const project = freshProject();
    const file = path.join(project, 'credentials_ingestion.json');
    writeFileSync(file, JSON.stringify({ klaviyo_api_token: WRONG_KEY }));
    chmodSync(file, 0o600);
    const db = copyOfBase();
    const before = await snapshotTables(db);
    const result = await runCliProcess(runArgs(project, db), {
      env: { KLAVIYO_BASE_URL: sim.baseUrl, KLAVIYO_API_KEY: '', KLAVIYO_REVISION: '' },
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(
      /\w+ \(klaviyo_\w+\) failed: Klaviyo API GET http:\/\/127\.0\.0\.1:\d+\/api\/\S+ failed with 401 Unauthorized: .*The API key from \S*credentials_ingestion\.json was rejected/,
    );
    expect(result.stdout).toMatch(
      /fix: set klaviyo_api_token in \S*credentials_ingestion\.json to a valid private API key/,
    );
    expect(result.stdout + result.stderr).not.toContain('wrongkey_000');
    await expectDataUnchanged(before, db);
  });

  it('a revoked scope (403 on events): that source fails, the others load, exit 1', async () => {
    const db = copyOfBase();
    const before = await snapshotTables(db);
    sim.addRecords({ profiles: 5 });
    sim.setApiKeys([SECRET_KEY, ODD_SECRET], { [SECRET_KEY]: allScopesBut('events:read') });
    let result: CliResult;
    try {
      result = await runCli(runArgs(baseProject, db), env);
    } finally {
      sim.setApiKeys([SECRET_KEY, ODD_SECRET]);
    }
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /events \(klaviyo_events\) failed: Klaviyo API GET http:\/\/127\.0\.0\.1:\d+\/api\/events\?\S+ failed with 403 Forbidden: "This API key is missing required scopes: events:read\." .*The API key from env KLAVIYO_API_KEY lacks the events:read scope this endpoint needs.*\n {2}fix: add the events:read scope to the private API key/,
    );
    expect(result.stdout).toContain('5 of 6 sources ok');
    expect(result.stdout).toMatch(/profiles +klaviyo_profiles +SUCCESS/);
    const after = await snapshotTables(db);
    expect(after['klaviyo_src.klaviyo_profiles']!.length).toBeGreaterThan(
      before['klaviyo_src.klaviyo_profiles']!.length,
    );
    // The events table is untouched; the others may have gained rows.
    const changed = Object.keys(before).filter((t) => !t.endsWith('klaviyo_events'));
    const added = await expectDataUnchanged(before, db, changed);
    const events = added.filter((r) => r.table_name === 'klaviyo_events');
    expect(events.map((r) => r.status).sort()).toEqual(['ERROR', 'STARTED']);
    expect(String(events.find((r) => r.status === 'ERROR')?.error_message)).toContain('events:read');
  });

  it('a revision the API rejects: names KLAVIYO_REVISION and the fix, exit 1, nothing loaded', async () => {
    const api = await startRevisionRejectingApi();
    try {
      const db = copyOfBase();
      const before = await snapshotTables(db);
      const result = await runCli(runArgs(baseProject, db), {
        ...env,
        KLAVIYO_BASE_URL: api.baseUrl,
        KLAVIYO_REVISION: '2025-03-01',
      });
      expect(result.code).toBe(1);
      expect(api.requests.length).toBeGreaterThan(0);
      expect(result.stdout).toMatch(
        /events \(klaviyo_events\) failed: Klaviyo API GET http:\/\/127\.0\.0\.1:\d+\/api\/events\?\S+ failed with 400 Bad Request: "'2025-03-01' is not a valid revision\." \(parameter: revision\) \[code invalid\]\. Klaviyo rejected the API revision "2025-03-01" set by KLAVIYO_REVISION \(environment\)\.\n {2}fix: set KLAVIYO_REVISION to a current Klaviyo API revision \(YYYY-MM-DD, e\.g\. 2026-07-15\), or unset it/,
      );
      await expectDataUnchanged(before, db);
    } finally {
      await api.close();
    }
  });
});

describe('security', () => {
  it('the API key appears in no output, no table, no simulator log', async () => {
    const db = newDbPath();
    const outputs: CliResult[] = [];
    const run = async (argv: string[], extraEnv: Record<string, string | undefined> = {}) => {
      const result = await runCli(argv, { ...env, ...extraEnv });
      outputs.push(result);
      return result;
    };
    expect((await run(runArgs(baseProject, db, '--json'))).code).toBe(0);
    sim.addRecords({ events: 10, profiles: 3 });
    expect((await run(runArgs(baseProject, db, '--verbose'))).code).toBe(0);
    expect((await run(runArgs(baseProject, db, '--dry-run'))).code).toBe(0);
    expect((await run(runArgs(baseProject, newDbPath(), '--dry-run', '--verbose', '--json'))).code).toBe(0);
    expect((await run(['validate', baseProject])).code).toBe(0);
    expect((await run(['validate', baseProject, '--json'])).code).toBe(0);
    // The odd-looking key only the registered-secret redaction can hide.
    expect((await run(runArgs(baseProject, db, '--verbose'), { KLAVIYO_API_KEY: ODD_SECRET })).code).toBe(0);
    try {
      sim.setApiKeys(['pk_someone_elses_key_000000000000']);
      expect((await run(runArgs(baseProject, db, '--verbose', '--json'))).code).toBe(1);
      expect((await run(runArgs(baseProject, db, '--verbose'), { KLAVIYO_API_KEY: ODD_SECRET })).code).toBe(
        1,
      );
      sim.setApiKeys([SECRET_KEY, ODD_SECRET], { [SECRET_KEY]: allScopesBut('profiles:read') });
      expect((await run(runArgs(baseProject, db, '--verbose'))).code).toBe(1);
    } finally {
      sim.setApiKeys([SECRET_KEY, ODD_SECRET]);
    }
    // The key in credentials_ingestion.json (group-readable: a warning, never the key).
    const project = freshProject();
    const file = path.join(project, 'credentials_ingestion.json');
    writeFileSync(
      file,
      JSON.stringify({ klaviyo_api_token: SECRET_KEY, klaviyo_revision_time: '2026-07-15' }),
    );
    chmodSync(file, 0o640);
    expect((await run(runArgs(project, db, '--verbose'), { KLAVIYO_API_KEY: undefined })).code).toBe(0);
    expect((await run(['validate', project], { KLAVIYO_API_KEY: undefined })).code).toBe(0);

    const printed = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(printed).toContain('-> GET'); // --verbose did print requests
    expect(printed).toContain('401 Unauthorized');
    expect(printed).toContain('403 Forbidden');
    for (const secret of [SECRET_KEY, SECRET_TAIL, ODD_SECRET, 'ODDSECRET']) {
      expect(printed, 'stdout/stderr').not.toContain(secret);
      expect(await dumpText(db), 'DuckDB tables').not.toContain(secret);
      expect(await dumpText(baseDb), 'DuckDB tables').not.toContain(secret);
      expect(readFileSync(simLog, 'utf8'), 'simulator log').not.toContain(secret);
    }
    const log = await dumpText(db);
    expect(log).toContain('401 Unauthorized'); // the error rows are there, redacted
  });

  it('run warns when credentials_ingestion.json is readable by group or others', async () => {
    const project = freshProject();
    const file = path.join(project, 'credentials_ingestion.json');
    writeFileSync(file, JSON.stringify({ klaviyo_api_token: SECRET_KEY }));
    chmodSync(file, 0o644);
    const db = newDbPath();
    const loose = await runCli(runArgs(project, db, '--sources', 'metrics'), {
      ...env,
      KLAVIYO_API_KEY: undefined,
    });
    expect(loose.code, loose.stderr).toBe(0);
    expect(loose.stderr).toMatch(
      /^warning: CREDENTIALS_PERMISSIONS \S*credentials_ingestion\.json: \S*credentials_ingestion\.json is readable by other users \(mode 644\); run: chmod 600 \S*credentials_ingestion\.json$/m,
    );
    chmodSync(file, 0o600);
    const tight = await runCli(runArgs(project, db, '--sources', 'metrics'), {
      ...env,
      KLAVIYO_API_KEY: undefined,
    });
    expect(tight.code).toBe(0);
    expect(tight.stderr).not.toContain('CREDENTIALS_PERMISSIONS');
  });
});
