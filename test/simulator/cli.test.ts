import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test, vi } from 'vitest';
import { DEMO_API_KEY } from '../../src/simulator/index.js';
import { runCli, startCli } from '../support/cli-in-process.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';
import { call } from './helpers.js';

afterAll(cleanupTempDirs);

test('klaviyo-ingest simulate prints the base URL and demo key, serves, logs, stops on SIGTERM', async () => {
  const logFile = join(tempDir('sim-'), 'log.jsonl');
  const before = new Set(process.listeners('SIGTERM'));
  const cli = startCli([
    'simulate',
    '--profiles',
    '20',
    '--events',
    '200',
    '--seed',
    '7',
    '--log-file',
    logFile,
  ]);
  await vi.waitFor(() => expect(cli.stdout().split('\n').length).toBeGreaterThanOrEqual(3), {
    timeout: 5000,
  });
  const [url, key] = cli.stdout().split('\n');
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(key).toBe(DEMO_API_KEY);
  const r = await call({ baseUrl: url as string }, '/api/profiles', { 'page[size]': '100' });
  expect(r.body.data).toHaveLength(20);
  // Deliver SIGTERM to the command's own handler only (not the test runner's).
  for (const l of process.listeners('SIGTERM')) if (!before.has(l)) (l as () => void)();
  expect((await cli.done).code).toBe(0);
  const entries = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(entries[0]).toMatchObject({ path: '/api/profiles', status: 200 });
});

test('simulate rejects a bad --faults spec as a usage error', async () => {
  expect((await runCli(['simulate', '--faults', 'teapot'])).code).toBe(2);
});
