/**
 * `klaviyo-ingest add-source`: the templates' "Adding New Klaviyo Data Sources" as one command. The
 * entry lands at the end of the list with the file's comments and layout kept, the load config is the
 * stream's type, the project validates and the new source loads; every refusal exits 2 and leaves
 * every project file as it was.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planAddDatasource } from '../../src/project/add-datasource.js';
import { readProjectSnapshot, validateProject } from '../../src/project/index.js';
import { LOAD_CONFIG_EVENTS, LOAD_CONFIG_METRICS, LOAD_CONFIG_STANDARD } from '../../src/scaffold/index.js';
import { DEMO_API_KEY, startSimulator } from '../../src/simulator/index.js';
import { STREAMS } from '../../src/sources/streams/index.js';
import { runCli } from '../support/cli-in-process.js';
import { queryDuckDB } from '../support/destination.js';
import { edit, freshProject } from '../support/project.js';
import { cleanupTempDirs } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

const DATASOURCES = 'config/klaviyo_datasources.yml';
const read = (dir: string, rel: string) => readFileSync(path.join(dir, rel), 'utf8');

/** sha256 of every file under the project folder, by relative path: proof nothing was written. */
function projectFingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, child)).isDirectory()) walk(child);
      else
        out[child] = createHash('sha256')
          .update(readFileSync(path.join(dir, child)))
          .digest('hex');
    }
  };
  walk('');
  return out;
}

const addSource = (dir: string, ...args: string[]) => runCli(['add-source', ...args, '--project', dir]);

describe('add-source writes the entry and the load config, then validates', () => {
  it('flows into inc: appended after the last entry, comments and layout kept, Type 1 config; it loads', async () => {
    const dir = freshProject();
    edit(
      dir,
      DATASOURCES,
      (t) =>
        `# our sources (keep this comment)\n${t.replace('  - name: metrics', '  # full load\n  - name: metrics')}`,
    );
    const before = read(dir, DATASOURCES);
    const result = await addSource(dir, 'flows', '--table-field', 'updated', '--api-field', 'updated');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('added flows to inc_datasources in config/klaviyo_datasources.yml');
    expect(result.stdout).toContain(': valid (0 errors, 0 warnings)');
    const after = read(dir, DATASOURCES);
    // Every byte before stays; the entry follows, in the templates' layout.
    expect(after).toBe(
      `${before}\n` +
        [
          '  - name: flows',
          '    table_name: klaviyo_flows',
          '    config_file: klaviyo_flows_load.yml',
          '    incremental_field: updated',
          '    incremental_field_connector: updated',
          '    default_start_time: "2025-09-01T00:00:00.000000"',
          '    workflow_name: klaviyo_ingest.dig',
          '    mode: append',
          '',
        ].join('\n'),
    );
    expect(read(dir, 'config/klaviyo_flows_load.yml')).toBe(LOAD_CONFIG_STANDARD);
    expect(validateProject(dir, { env: {} }).errors).toBe(0);

    const sim = await startSimulator({ seed: 3, rateLimits: 'off', events: 10, profiles: 5 });
    try {
      const db = path.join(path.dirname(dir), 'k.duckdb');
      const run = await runCli(
        ['run', 'inc', '--project', dir, '--destination', `duckdb:${db}`, '--sources', 'flows', '--json'],
        { KLAVIYO_API_KEY: DEMO_API_KEY, KLAVIYO_BASE_URL: sim.baseUrl },
      );
      expect(run.code, run.stderr).toBe(0);
      const rows = await queryDuckDB(db, 'SELECT count(*)::INT AS n FROM klaviyo_src.klaviyo_flows', {
        readOnly: true,
      });
      expect(rows[0]?.n).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });

  it('--workflow both: inc and hist entries (hist table _hist, the hist start), one load config', async () => {
    const dir = freshProject();
    const result = await addSource(dir, 'segments', '--api-field', 'created', '--workflow', 'both', '--json');
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.written.sort()).toEqual([DATASOURCES, 'config/klaviyo_segments_load.yml']);
    expect(
      out.entries.map((e: { list: string; entry: { table_name: string } }) => [e.list, e.entry.table_name]),
    ).toEqual([
      ['inc_datasources', 'klaviyo_segments'],
      ['hist_datasources', 'klaviyo_segments_hist'],
    ]);
    const snapshot = readProjectSnapshot(dir, { env: {} });
    const hist = snapshot.datasources?.hist_datasources.find((d) => d.name === 'segments');
    expect(hist?.default_start_time).toBe('2023-09-01T00:00:00.000000');
    expect(hist?.incremental_field).toBe('created');
    expect(out.validation.errors).toBe(0);
  });

  it('--full-load of a windowed stream writes the Type 3 config; events-like is the events stream', async () => {
    const dir = freshProject();
    const full = await addSource(dir, 'flows', '--full-load');
    expect(full.code, full.stderr).toBe(0);
    expect(read(dir, 'config/klaviyo_flows_load.yml')).toBe(LOAD_CONFIG_METRICS);
    const entry = readProjectSnapshot(dir, { env: {} }).datasources?.inc_datasources.at(-1);
    expect(entry).toMatchObject({
      name: 'flows',
      incremental_field: null,
      incremental_field_connector: null,
    });

    // A project without events in its inc list: add-source events makes the Type 2 entry again.
    const other = freshProject();
    edit(other, DATASOURCES, (t) => {
      const inc = t.indexOf('inc_datasources:');
      return t.slice(0, inc) + t.slice(inc).replace(/ {2}- name: events\n(?: {4}.*\n)+\n/, '');
    });
    const events = await addSource(other, 'events', '--events-like', '--workflow', 'inc');
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toContain('kept config/klaviyo_events_load.yml');
    expect(read(other, 'config/klaviyo_events_load.yml')).toBe(LOAD_CONFIG_EVENTS);
    expect(readProjectSnapshot(other, { env: {} }).datasources?.inc_datasources.at(-1)).toMatchObject({
      name: 'events',
      incremental_field: 'datetime',
      incremental_field_connector: 'datetime',
    });
  });

  it('works for every stream of the registry (new streams need nothing more)', () => {
    const dir = freshProject();
    edit(dir, DATASOURCES, () => 'hist_datasources: []\n\ninc_datasources: []\n');
    const snapshot = readProjectSnapshot(dir, { env: {} });
    const texts = {
      standard: LOAD_CONFIG_STANDARD,
      'events-like': LOAD_CONFIG_EVENTS,
      'full-load': LOAD_CONFIG_METRICS,
    };
    for (const stream of STREAMS) {
      const api = Object.keys(stream.windowFields)[0];
      const plan = planAddDatasource(
        snapshot,
        { name: stream.name, ...(api ? { apiField: api } : {}), workflow: 'inc' },
        texts,
      );
      const expected =
        api === undefined ? 'full-load' : stream.implicitWindowField ? 'events-like' : 'standard';
      expect(plan.loadType, stream.name).toBe(expected);
      expect(plan.entries[0]?.entry.incremental_field, stream.name).toBe(
        api === undefined ? null : stream.windowFields[api]?.apiField,
      );
    }
  });
});

describe('add-source refuses, exit 2, nothing written', () => {
  const cases: [string, string[], string, RegExp][] = [
    [
      'an unknown stream',
      ['nosuch', '--api-field', 'updated'],
      'UNKNOWN_DATA_SOURCE',
      /Unknown data source 'nosuch'.*\n {2}fix: use one of: events, /,
    ],
    [
      'an API field the endpoint cannot filter on',
      ['campaigns', '--api-field', 'updated_at', '--workflow', 'hist'],
      'UNKNOWN_INCREMENTAL_FIELD',
      /Unknown incremental field "updated_at" for data source campaigns: the connector takes updated, created/,
    ],
    [
      'a table field that is not the column the API field fills',
      ['flows', '--table-field', 'updated_at', '--api-field', 'updated'],
      'TABLE_FIELD_MISMATCH',
      /--table-field updated_at does not match the column "updated"/,
    ],
    [
      'an existing source',
      ['profiles', '--api-field', 'updated'],
      'SOURCE_EXISTS',
      /already has a datasource named profiles/,
    ],
    [
      'no --api-field for an incremental stream',
      ['flows'],
      'CLI_FLAG',
      /--api-field is required: flows is incremental/,
    ],
    [
      '--events-like for a stream windowed by incremental_field',
      ['flows', '--events-like', '--api-field', 'updated'],
      'ADD_SOURCE_TYPE',
      /not events-like/,
    ],
    [
      'incremental fields for a full-load stream',
      ['metrics', '--api-field', 'updated', '--workflow', 'hist'],
      'METRICS_INCREMENTAL',
      /metrics is a full load/,
    ],
    [
      'both --events-like and --full-load',
      ['flows', '--events-like', '--full-load'],
      'CLI_FLAG',
      /exclude each other/,
    ],
    [
      'a bad --workflow',
      ['flows', '--api-field', 'updated', '--workflow', 'daily'],
      'CLI_FLAG',
      /--workflow must be one of inc, hist, both/,
    ],
  ];
  it.each(cases)('%s', async (_what, args, code, message) => {
    const dir = freshProject();
    const before = projectFingerprint(dir);
    const result = await addSource(dir, ...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('nothing was written');
    const json = await addSource(dir, ...args, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code } });
    expect(projectFingerprint(dir)).toEqual(before);
  });

  it('a load config of another type in the way, and a project that does not parse', async () => {
    const dir = freshProject();
    writeFileSync(path.join(dir, 'config/klaviyo_flows_load.yml'), LOAD_CONFIG_METRICS);
    const before = projectFingerprint(dir);
    const clash = await addSource(dir, 'flows', '--api-field', 'updated');
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(
      'config/klaviyo_flows_load.yml exists already and differs from the standard load config',
    );
    expect(projectFingerprint(dir)).toEqual(before);

    edit(dir, DATASOURCES, (t) => t.replace('inc_datasources:', 'inc_datasources: [unclosed'));
    const broken = projectFingerprint(dir);
    const bad = await addSource(dir, 'segments', '--api-field', 'updated');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the project cannot be read');
    expect(bad.stderr).toContain('klaviyo_datasources.yml');
    expect(projectFingerprint(dir)).toEqual(broken);
  });
});
