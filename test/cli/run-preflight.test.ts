/**
 * Bad configuration found before anything is written: no API key at all (or none for a load config's
 * td_authentication_id), an unknown --sources name. Exit 2, one message with the fix, no database file
 * created, an existing one byte for byte unchanged, no request sent.
 */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { fileFingerprint } from '../chaos/bad-input-support.js';
import { runCli } from '../support/cli-in-process.js';
import { runCliProcess } from '../support/cli-process.js';
import { freshProject } from '../support/project.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

let sim: Simulator;
let work: string;
let baseDb: string;
let n = 0;

beforeAll(async () => {
  sim = await startSimulator({ seed: 2, rateLimits: 'off', events: 50, profiles: 10 });
  work = tempDir('ki-preflight-');
  baseDb = path.join(work, 'base.duckdb');
  const first = await runCli(
    ['run', 'inc', '--project', freshProject(), '--destination', `duckdb:${baseDb}`],
    {
      KLAVIYO_API_KEY: DEMO_API_KEY,
      KLAVIYO_BASE_URL: sim.baseUrl,
    },
  );
  expect(first.code, first.stderr).toBe(0);
});

afterAll(async () => {
  await sim?.close();
  cleanupTempDirs();
});

/** Runs the case against a copy of a loaded database and against a path that does not exist. */
async function expectNothingWritten(
  project: string,
  extra: string[],
  env: Record<string, string | undefined>,
): Promise<{ stderr: string; json: Record<string, unknown> }> {
  n += 1;
  const copy = path.join(work, `copy-${n}.duckdb`);
  copyFileSync(baseDb, copy);
  const before = fileFingerprint(copy);
  const requests = sim.requestLog().length;
  const fullEnv = { KLAVIYO_BASE_URL: sim.baseUrl, KLAVIYO_REVISION: undefined, ...env };
  const result = await runCli(
    ['run', 'inc', '--project', project, '--destination', `duckdb:${copy}`, ...extra],
    fullEnv,
  );
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(fileFingerprint(copy)).toBe(before);

  const fresh = path.join(work, `fresh-${n}.duckdb`);
  const json = await runCli(
    ['run', 'inc', '--project', project, '--destination', `duckdb:${fresh}`, ...extra, '--json'],
    fullEnv,
  );
  expect(json.code).toBe(2);
  expect(existsSync(fresh), 'the database file was created').toBe(false);
  expect(sim.requestLog().length, 'a request was sent').toBe(requests);
  return { stderr: result.stderr, json: JSON.parse(json.stdout) };
}

describe('run checks keys and the selection before it writes', () => {
  it('no API key at all: exit 2, CREDENTIALS_MISSING with the fix, nothing written', async () => {
    const project = freshProject();
    const { stderr, json } = await expectNothingWritten(project, [], { KLAVIYO_API_KEY: undefined });
    expect(stderr).toBe(
      'klaviyo-ingest: no Klaviyo API key: KLAVIYO_API_KEY is not set and no credentials_ingestion.json was found\n' +
        `  fix: Set KLAVIYO_API_KEY, or copy credentials_ingestion.json.example to ${path.join(project, 'credentials_ingestion.json')} and fill it in.\n`,
    );
    expect(json).toMatchObject({ ok: false, exitCode: 2, error: { code: 'CREDENTIALS_MISSING' } });
  });

  it('no key for the load configs td_authentication_id (360030) in credentials_ingestion.json', async () => {
    const project = freshProject();
    writeFileSync(
      path.join(project, 'credentials_ingestion.json'),
      JSON.stringify({ accounts: { '999': { klaviyo_api_token: DEMO_API_KEY } } }),
      { mode: 0o600 },
    );
    const { stderr } = await expectNothingWritten(project, [], { KLAVIYO_API_KEY: undefined });
    expect(stderr).toContain('no Klaviyo API key for td_authentication_id 360030 in the credentials file');
  });

  it('an unknown --sources name, and a --dry-run without a key', async () => {
    const project = freshProject();
    const unknown = await expectNothingWritten(project, ['--sources', 'evnets'], {
      KLAVIYO_API_KEY: DEMO_API_KEY,
    });
    expect(unknown.stderr).toContain('--sources names evnets, which klaviyo_ingest_inc.dig does not list');
    expect(unknown.json).toMatchObject({ error: { code: 'UNKNOWN_SOURCE_SELECTED', key: '--sources' } });
    const dry = await expectNothingWritten(project, ['--dry-run'], { KLAVIYO_API_KEY: undefined });
    expect(dry.json).toMatchObject({ error: { code: 'CREDENTIALS_MISSING' } });
  });

  it('the real binary exits 2 without a key and creates no file', async () => {
    const project = freshProject();
    const db = path.join(work, 'binary.duckdb');
    const result = await runCliProcess(
      ['run', 'inc', '--project', project, '--destination', `duckdb:${db}`],
      {
        env: { KLAVIYO_API_KEY: undefined, KLAVIYO_BASE_URL: sim.baseUrl },
      },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('no Klaviyo API key');
    expect(existsSync(db)).toBe(false);
  });
});
