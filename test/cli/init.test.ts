// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTRA_STREAMS, SEED_STREAMS, TEMPLATE_FILES } from '../../src/scaffold/index.js';
import { specBlocks } from '../project/helpers.js';
import { runCli } from '../support/cli-in-process.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

function read(dir: string, rel: string): string {
  return readFileSync(path.join(dir, rel), 'utf8');
}

describe('klaviyo-ingest init', () => {
  it('writes the templates byte for byte as the spec gives them', async () => {
    const dir = path.join(tempDir(), 'ingestion');
    const result = await runCli(['init', dir]);
    expect(result.code).toBe(0);
    const blocks = specBlocks();
    const inc = blocks.get('klaviyo_ingest_inc.dig')!;
    const standard = blocks.get('config/klaviyo_profiles_load.yml')!;
    expect(inc).toContain('${inc_datasources}');
    expect(read(dir, 'klaviyo_ingest_inc.dig')).toBe(inc);
    expect(read(dir, 'klaviyo_ingest_hist.dig')).toBe(
      inc.replace('${inc_datasources}', '${hist_datasources}'),
    );
    expect(read(dir, 'config/klaviyo_datasources.yml')).toBe(blocks.get('config/klaviyo_datasources.yml'));
    expect(read(dir, 'config/klaviyo_events_load.yml')).toBe(blocks.get('config/klaviyo_events_load.yml'));
    expect(read(dir, 'config/klaviyo_metric_data_load.yml')).toBe(
      blocks.get('config/klaviyo_metric_data_load.yml'),
    );
    for (const name of ['profiles', 'lists', 'campaigns', 'email_templates']) {
      expect(read(dir, `config/klaviyo_${name}_load.yml`)).toBe(standard);
    }
  });

  it('writes every file with exactly one trailing newline, and the support files', async () => {
    const dir = path.join(tempDir(), 'proj');
    expect((await runCli(['init', dir])).code).toBe(0);
    for (const file of TEMPLATE_FILES) {
      const text = read(dir, file.path);
      expect(text.endsWith('\n') && !text.endsWith('\n\n'), file.path).toBe(true);
    }
    expect(read(dir, '.gitignore')).toContain('credentials_ingestion.json\n');
    expect(read(dir, 'config/database.yml')).toBe(
      'databases:\n  src: klaviyo_src\n\ntd_authentication_ids:\n  klaviyo:\n    default: 360030\n',
    );
    const ranges = read(dir, 'config/hist_date_ranges.yml');
    expect(ranges.match(/start_time:/g)).toHaveLength(24);
    expect(ranges).toContain('start_time: "2023-09-01T00:00:00.000000"');
    expect(ranges).toContain('start_time: "2025-08-01T00:00:00.000000"');
    expect(ranges).toContain('end_time: "2025-09-01T00:00:00.000000"');
    for (const step of ['start', 'success', 'error']) {
      const sql = read(dir, `sql/log_ingestion_${step}.sql`);
      expect(sql).toContain('INSERT INTO ingestion_log');
      expect(sql).toContain('duration_seconds');
    }
    expect(JSON.parse(read(dir, 'credentials_ingestion.json.example'))).toHaveProperty('klaviyo_api_token');
  });

  it('prints what it wrote and the next steps', async () => {
    const dir = path.join(tempDir(), 'printed');
    const result = await runCli(['init', dir]);
    expect(result.stdout).toContain(`Wrote ${TEMPLATE_FILES.length} files to ${dir}:`);
    expect(result.stdout).toContain(path.join(dir, 'klaviyo_ingest_inc.dig'));
    expect(result.stdout).toContain('Next steps:');
    expect(result.stdout).toContain(`klaviyo-ingest validate ${dir}`);
  });

  it('refuses to overwrite existing files without --force (exit 2, lists them)', async () => {
    const dir = path.join(tempDir(), 'existing');
    expect((await runCli(['init', dir])).code).toBe(0);
    writeFileSync(path.join(dir, 'config/klaviyo_events_load.yml'), 'my own\n');
    const again = await runCli(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite');
    expect(again.stderr).toContain('klaviyo_ingest_inc.dig');
    expect(again.stderr).toContain('config/klaviyo_events_load.yml');
    expect(again.stderr).toContain('--force');
    expect(read(dir, 'config/klaviyo_events_load.yml')).toBe('my own\n');
    const forced = await runCli(['init', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(read(dir, 'config/klaviyo_events_load.yml')).toBe(
      specBlocks().get('config/klaviyo_events_load.yml'),
    );
  });

  it('defaults to ./ingestion', async () => {
    const cwd = process.cwd();
    const parent = tempDir();
    process.chdir(parent);
    try {
      expect((await runCli(['init'])).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(path.join(parent, 'ingestion', 'klaviyo_ingest_inc.dig'))).toBe(true);
  });

  it('--streams all adds a datasource entry and a load config per stream beside the six, and validates clean', async () => {
    const dir = path.join(tempDir(), 'all-streams');
    const result = await runCli(['init', dir, '--streams', 'all']);
    expect(result.code).toBe(0);
    const datasources = read(dir, 'config/klaviyo_datasources.yml');
    // The templates' text is kept as it is; the new entries follow the inc list's last entry.
    expect(datasources.startsWith(specBlocks().get('config/klaviyo_datasources.yml')!)).toBe(true);
    const extra = EXTRA_STREAMS.map((stream) => stream.name);
    for (const name of [...SEED_STREAMS, ...extra]) expect(datasources).toContain(`  - name: ${name}\n`);
    expect(datasources).toContain(
      '  - name: forms\n    table_name: klaviyo_forms\n    config_file: klaviyo_forms_load.yml\n    incremental_field: updated_at\n    incremental_field_connector: updated\n',
    );
    expect(datasources).toMatch(
      /- name: coupons\n(?:.*\n)*?\s+incremental_field:\n\s+incremental_field_connector:\n(?:.*\n)*?\s+mode: snapshot\n/,
    );
    // Children window per parent (memberships with a lookback); reports merge, and name their metric.
    expect(datasources).toMatch(
      /- name: list_memberships\n(?:.*\n)*?\s+incremental_field_connector: joined_group_at\n(?:.*\n)*?\s+mode: append\n\s+lookback: 2d\n/,
    );
    expect(datasources).toMatch(/- name: coupon_codes\n(?:.*\n)*?\s+mode: snapshot\n/);
    expect(datasources).toMatch(/- name: campaign_values_daily\n(?:.*\n)*?\s+mode: merge\n\s+lookback: 2d\n/);
    // A request per day: campaign values start 30 days before today, not at the templates' date.
    const start =
      /- name: campaign_values_daily\n(?:.*\n)*?\s+default_start_time: "(\S+)T00:00:00\.000000"/.exec(
        datasources,
      )?.[1];
    const daysBack = (Date.now() - Date.parse(`${start}T00:00:00Z`)) / 86_400_000;
    expect(daysBack >= 30 && daysBack < 31.01).toBe(true);
    expect(read(dir, 'config/klaviyo_campaign_values_daily_load.yml')).toContain(
      '  incremental_field: ${datasource.incremental_field_connector}\n  conversion_metric: Placed Order\n',
    );
    expect(read(dir, 'config/klaviyo_segments_load.yml')).toBe(read(dir, 'config/klaviyo_profiles_load.yml'));
    expect(read(dir, 'config/klaviyo_global_exclusions_load.yml')).toBe(
      read(dir, 'config/klaviyo_metric_data_load.yml'),
    );
    const validate = await runCli(['validate', dir], { KLAVIYO_API_KEY: 'pk_test_key' });
    expect({ code: validate.code, out: validate.stdout }).toEqual({
      code: 0,
      out: expect.stringContaining('valid (0 errors, 0 warnings)'),
    });
  });

  it('--streams with a list adds only those; an unknown name writes nothing (exit 2, names the choices)', async () => {
    const dir = path.join(tempDir(), 'some-streams');
    expect((await runCli(['init', dir, '--streams', 'flows,segments,events'])).code).toBe(0);
    const datasources = read(dir, 'config/klaviyo_datasources.yml');
    expect(datasources.match(/ {2}- name: /g)).toHaveLength(11 + 2);
    expect(existsSync(path.join(dir, 'config/klaviyo_flows_load.yml'))).toBe(true);
    expect(existsSync(path.join(dir, 'config/klaviyo_tags_load.yml'))).toBe(false);
    const bad = path.join(tempDir(), 'bad-streams');
    const result = await runCli(['init', bad, '--streams', 'flows,flow_series']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--streams names unknown stream(s): flow_series');
    expect(result.stderr).toContain('global_exclusions');
    expect(existsSync(bad)).toBe(false);
  });

  it('validate refuses a snapshot that reads a window (it would mark everything outside it deleted)', async () => {
    const dir = path.join(tempDir(), 'snapshot-window');
    expect((await runCli(['init', dir, '--streams', 'images'])).code).toBe(0);
    const file = path.join(dir, 'config/klaviyo_datasources.yml');
    writeFileSync(
      file,
      read(dir, 'config/klaviyo_datasources.yml').replace(/mode: append\n$/, 'mode: snapshot\n'),
    );
    const validate = await runCli(['validate', dir], { KLAVIYO_API_KEY: 'pk_test_key' });
    expect(validate.code).not.toBe(0);
    expect(validate.stdout + validate.stderr).toMatch(
      /SNAPSHOT_NEEDS_FULL_READ config\/klaviyo_datasources.yml:\d+ inc_datasources\[6\]\.mode/,
    );
  });

  it("validate knows the added streams' window fields from their declarations", async () => {
    const dir = path.join(tempDir(), 'stream-fields');
    expect((await runCli(['init', dir, '--streams', 'forms,tags'])).code).toBe(0);
    const file = path.join(dir, 'config/klaviyo_datasources.yml');
    const text = read(dir, 'config/klaviyo_datasources.yml');
    writeFileSync(
      file,
      text
        .replace(
          'incremental_field_connector: updated\n    default_start_time: "2025-09-01T00:00:00.000000"\n    workflow_name: klaviyo_ingest.dig\n    mode: append\n\n  - name: tags',
          'incremental_field_connector: updated_at\n    default_start_time: "2025-09-01T00:00:00.000000"\n    workflow_name: klaviyo_ingest.dig\n    mode: append\n\n  - name: tags',
        )
        .replace(
          /(- name: tags\n(?:.*\n){2}) {4}incremental_field:\n {4}incremental_field_connector:\n/,
          '$1    incremental_field: updated\n    incremental_field_connector: updated\n',
        ),
    );
    const out = (await runCli(['validate', dir], { KLAVIYO_API_KEY: 'pk_test_key' })).stdout;
    expect(out).toMatch(
      /UNKNOWN_INCREMENTAL_FIELD .*inc_datasources\[6\]\.incremental_field_connector — Unknown incremental field "updated_at" for data source forms: the connector takes updated, created/,
    );
    expect(out).toMatch(/inc_datasources\[7\]\.incremental_field — tags is a full load/);
    expect(out).toMatch(/SNAPSHOT_NEEDS_FULL_READ .*inc_datasources\[7\]\.mode/);
  });
});
