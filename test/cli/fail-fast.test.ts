/**
 * Fail once, fail fast: a key the API refuses (401) stops the whole run at once, with one message
 * naming the fix; an API that cannot be reached is given a few quick attempts, then one short
 * message per run. The tables are left as they were (only STARTED / ERROR log rows are added).
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { queryDuckDB } from '../support/destination.js';
import { useHarness } from '../support/harness.js';

const NOW = Date.UTC(2026, 2, 1);

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Data tables and their row checksums (everything but the ingestion log). */
async function dataChecksums(file: string): Promise<Record<string, string>> {
  const tables = await queryDuckDB(
    file,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'klaviyo_src' AND table_name <> 'ingestion_log' ORDER BY 1",
  );
  const out: Record<string, string> = {};
  for (const { table_name } of tables) {
    const [row] = await queryDuckDB(
      file,
      `SELECT count(*) AS n, coalesce(sum(hash(t::VARCHAR)), 0) AS h FROM klaviyo_src.${String(table_name)} AS t`,
    );
    out[String(table_name)] = `${row?.n}:${row?.h}`;
  }
  return out;
}

describe('fail once, fail fast', () => {
  const h = useHarness({ seed: 5, now: NOW, events: 2000, profiles: 200 });
  const args = () => ['run', 'inc', '--project', h.projectDir, '--destination', `duckdb:${h.dbPath}`];

  it('a refused key (401): the whole run stops at once with one message naming the fix; tables untouched', async () => {
    const first = await runCli(args(), h.env);
    expect(first.code).toBe(0);
    const before = await dataChecksums(h.dbPath);
    h.sim.clearLog();

    const result = await runCli(args(), { ...h.env, KLAVIYO_API_KEY: 'pk_wrong_key_0000000000000000000000' });
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    // One 401 paragraph with its fix, not one per source.
    expect(output.match(/401 Unauthorized/g)).toHaveLength(1);
    expect(output.match(/ {2}fix: /g)).toHaveLength(1);
    expect(output).toMatch(/fix: .*KLAVIYO_API_KEY/);
    expect(output).not.toContain('pk_wrong_key');
    // The others say in one line that they stopped, or did not start.
    const stopped =
      output.match(/\) failed: stopped: \S+ failed with KLAVIYO_AUTH, which every source would meet/g) ?? [];
    const notStarted = output.match(/\): not started: stopped: \S+ failed with KLAVIYO_AUTH/g) ?? [];
    expect(stopped.length + notStarted.length).toBe(5);
    expect(notStarted.length).toBeGreaterThan(0);
    expect(result.stdout).toMatch(/0 of 6 sources ok .* \(stopped: KLAVIYO_AUTH\)/);
    // No request after the run stopped: at most one per source that was in flight (_parallel.limit 3).
    expect(h.sim.requestLog().length).toBeLessThanOrEqual(3);
    expect(output.length).toBeLessThan(3000);
    expect(await dataChecksums(h.dbPath)).toEqual(before);
  });

  it('an unreachable KLAVIYO_BASE_URL: a few quick retries, then one message for the run', async () => {
    const before = await dataChecksums(h.dbPath);
    const port = await closedPort();
    const started = Date.now();
    const result = await runCli(args(), { ...h.env, KLAVIYO_BASE_URL: `http://127.0.0.1:${port}` });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(seconds).toBeLessThan(20);
    const output = result.stdout + result.stderr;
    expect(
      output.match(
        /cannot reach the Klaviyo API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED; 4 attempts over/g,
      ),
    ).toHaveLength(1);
    expect(output.match(/ {2}fix: check KLAVIYO_BASE_URL/g)).toHaveLength(1);
    expect(output).toMatch(/stopped: \S+ failed with KLAVIYO_UNREACHABLE/);
    expect(output.length).toBeLessThan(3000);
    expect(await dataChecksums(h.dbPath)).toEqual(before);
  });
});
