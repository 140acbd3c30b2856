// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWorkflow } from '../../src/project/dig-file.js';
import { ProjectFiles } from '../../src/project/files.js';
import {
  createCredentialsResolver,
  evaluateExpression,
  fillTemplate,
  loadProject,
  parseLoadConfig,
  parseYamlFile,
} from '../../src/project/index.js';
import { redact } from '../../src/util/redact.js';
import { caught } from '../support/errors.js';
import { edit, freshProject } from '../support/project.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

function write(dir: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
}

describe('Digdag YAML', () => {
  it('keeps timestamps and yes/no as strings, reads empty values as null', () => {
    const y = parseYamlFile('x.yml', 'a: 2015-01-01 00:00:00\nb: yes\nc: true\nd:\ne: 10:00:00\n');
    expect(y.value).toEqual({ a: '2015-01-01 00:00:00', b: 'yes', c: true, d: null, e: '10:00:00' });
  });

  it('rejects duplicate keys with the file and line', () => {
    const e = caught(() => parseYamlFile('config/x.yml', 'a: 1\nb: 2\na: 3\n'));
    expect(e.code).toBe('YAML_DUPLICATE_KEY');
    expect(e.kind).toBe('config');
    expect(e.file).toBe('config/x.yml');
    expect(e.line).toBe(3);
  });

  it('gives file and line for a syntax error in a project file', () => {
    const dir = freshProject();
    edit(dir, 'config/klaviyo_datasources.yml', (t) =>
      t.replace('  - name: campaigns', '  - name: [campaigns'),
    );
    const e = caught(() => loadProject(dir));
    expect(e.code).toBe('YAML_SYNTAX');
    expect(e.file).toBe('config/klaviyo_datasources.yml');
    expect(e.line).toBe(21); // the unclosed [ of line 20 is detected on the next line
    expect(e.fix).toBeTruthy();
  });
});

describe('!include', () => {
  it('merges several includes deeply, in order, relative to the including file', () => {
    const dir = tempDir();
    write(
      dir,
      'wf.dig',
      'timezone: UTC\n_export:\n  a: {x: 1, y: 1}\n  !include : config/one.yml\n  !include : config/two.yml\n',
    );
    write(dir, 'config/one.yml', 'a: {y: 2, z: 2}\nb: [1]\n!include : nested.yml\n');
    write(dir, 'config/nested.yml', 'n: 1\n');
    write(dir, 'config/two.yml', 'b: [2]\nc: true\n');
    const wf = readWorkflow(new ProjectFiles(dir), 'wf.dig');
    expect(wf.exports).toEqual({ a: { x: 1, y: 2, z: 2 }, b: [2], n: 1, c: true });
    expect(wf.exportOrigins).toEqual({
      a: 'config/one.yml',
      b: 'config/two.yml',
      n: 'config/one.yml',
      c: 'config/two.yml',
    });
  });

  it('refuses paths that escape the including folder', () => {
    const dir = tempDir();
    write(dir, 'wf.dig', '_export:\n  !include : ../secret.yml\n');
    const e = caught(() => readWorkflow(new ProjectFiles(dir), 'wf.dig'));
    expect(e.code).toBe('INCLUDE_PATH');
    expect(e.file).toBe('wf.dig');
    expect(e.message).toBe('!include path "../secret.yml" must not include ".." nor be absolute');
  });

  it('requires the included file to be a mapping', () => {
    const dir = tempDir();
    write(dir, 'wf.dig', '_export:\n  !include : config/list.yml\n');
    write(dir, 'config/list.yml', '- a\n- b\n');
    const e = caught(() => readWorkflow(new ProjectFiles(dir), 'wf.dig'));
    expect(e.code).toBe('INCLUDE_NOT_MAPPING');
    expect(e.message).toBe('included file config/list.yml must contain a mapping (key: value pairs)');
  });
});

describe('${...} filling', () => {
  const params = {
    datasource: { table_name: 'klaviyo_events', incremental_field: null, n: 42, on: true, list: [1, 'a'] },
    td: { last_results: {} },
    empty: '',
  };

  it('renders null as empty, strings as is, other values as JSON', () => {
    const ctx = { file: 'x.yml' };
    expect(fillTemplate('t=${datasource.table_name}', params, ctx)).toBe('t=klaviyo_events');
    expect(fillTemplate('[${datasource.incremental_field}]', params, ctx)).toBe('[]');
    expect(fillTemplate('${datasource.n} ${datasource.on} ${datasource.list}', params, ctx)).toBe(
      '42 true [1,"a"]',
    );
    expect(fillTemplate("'${td.last_results.start_time}'", params, ctx)).toBe("''");
    expect(fillTemplate('${td.last_results}', params, ctx)).toBe('{}');
    expect(fillTemplate('${secret:klaviyo.key}', params, ctx)).toBe('${secret:klaviyo.key}');
  });

  it('names the file and the expression for an unknown top-level name', () => {
    const e = caught(() =>
      fillTemplate('a: 1\nb: ${nope.x}\n', params, { file: 'config/klaviyo_x_load.yml' }),
    );
    expect(e.code).toBe('TEMPLATE_UNKNOWN_NAME');
    expect(e.file).toBe('config/klaviyo_x_load.yml');
    expect(e.line).toBe(2);
    expect(e.message).toBe('cannot evaluate ${nope.x}: nope is not defined');
  });

  it('fails reading a property of a missing object', () => {
    const e = caught(() => fillTemplate('${td.last_job.num_records}', params, { file: 'sql/x.sql' }));
    expect(e.code).toBe('TEMPLATE_NULL_PROPERTY');
  });

  it('evaluates the if> condition as Digdag does', () => {
    const cond = 'datasource.incremental_field != "" && datasource.incremental_field != null';
    expect(evaluateExpression(cond, { datasource: { incremental_field: 'datetime' } })).toBe(true);
    expect(evaluateExpression(cond, { datasource: { incremental_field: null } })).toBe(false);
    expect(evaluateExpression(cond, { datasource: { incremental_field: '' } })).toBe(false);
    expect(evaluateExpression(cond, { datasource: {} })).toBe(false);
    expect(fillTemplate(`\${${cond}}`, { datasource: { incremental_field: 'x' } }, { file: 'a.dig' })).toBe(
      'true',
    );
  });

  it('supports literals, ||, !, parentheses and == with JavaScript meaning', () => {
    const p = { a: { b: 'x', z: 0 }, t: true };
    expect(evaluateExpression("!(a.b == 'x') || a.z == 0", p)).toBe(true);
    expect(evaluateExpression('a.missing || "fallback"', p)).toBe('fallback');
    expect(evaluateExpression('null == a.missing', p)).toBe(true);
    expect(evaluateExpression('!t && true', p)).toBe(false);
    expect(evaluateExpression('a.z == "0"', p)).toBe(true);
    expect(evaluateExpression('a.z === "0"', p)).toBe(false);
    expect(() => evaluateExpression('a.b + 1', p)).toThrow(/unsupported character/);
  });
});

describe('loadProject', () => {
  it('reads the workflow essentials of the templates', () => {
    const project = loadProject(freshProject(), { env: {} });
    expect(project.databases).toEqual({ src: 'klaviyo_src' });
    const inc = project.workflow('klaviyo_ingest_inc');
    expect(inc.timezone).toBe('UTC');
    expect(inc.loop).toMatchObject({
      variable: 'datasource',
      listName: 'inc_datasources',
      parallelLimit: 3,
      parallel: true,
    });
    expect(inc.loop?.logStart).toEqual({
      taskName: '+log_ingestion_start',
      sqlFile: 'sql/log_ingestion_start.sql',
      params: {
        database: '${databases.src}',
        source_name: '${datasource.table_name}',
        workflow_name: '${datasource.workflow_name}',
        table_name: '${datasource.table_name}',
      },
    });
    expect(inc.loop?.load?.configPathTemplate).toBe('config/${datasource.config_file}');
    expect(inc.loop?.setup?.condition).toBe(
      '${datasource.incremental_field != "" && datasource.incremental_field != null}',
    );
    expect(inc.errorTask).toMatchObject({
      sqlFile: 'sql/log_ingestion_error.sql',
      source_name: 'klaviyo',
      workflow_name: 'klaviyo_ingest',
      error_message: 'klaviyo ingestion failed. check klaviyo_ingest',
    });
    expect(inc.exportOrigins.inc_datasources).toBe('config/klaviyo_datasources.yml');
    expect(inc.datasources?.map((d) => d.name)).toEqual([
      'events',
      'templates',
      'campaigns',
      'lists',
      'profiles',
      'metrics',
    ]);
    expect(project.workflow('klaviyo_ingest_hist.dig').datasources).toHaveLength(5);
    const metrics = project.datasources.inc_datasources[5]!;
    expect(metrics.incremental_field).toBeNull();
    expect(metrics.incremental_field_connector).toBeNull();
    expect(project.dateRanges?.date_ranges).toHaveLength(24);
  });

  it('fills and types a load config (empty substitution becomes null)', () => {
    const project = loadProject(freshProject(), { env: {} });
    const inc = project.workflow('klaviyo_ingest_inc.dig');
    const campaigns = inc.datasources![2]!;
    const { file, config } = project.readLoadConfig(
      campaigns,
      { start_time: '2025-09-01T00:00:00.000000', end_time: '2025-10-10T13:45:30.000000' },
      { workflow: inc },
    );
    expect(file).toBe('config/klaviyo_campaigns_load.yml');
    expect(config.in).toEqual({
      type: 'klaviyo',
      data_source: 'campaigns',
      td_authentication_id: 360030,
      incremental: true,
      start_time: '2025-09-01T00:00:00.000000',
      end_time: '2025-10-10T13:45:30.000000',
      incremental_field: 'updated',
    });
    expect(config.out.mode).toBe('append');
    expect(config.filters[0]).toMatchObject({
      type: 'add_time',
      to_column: { name: 'time', type: 'timestamp' },
    });
    const profiles = inc.datasources![4]!;
    expect(
      project.readLoadConfig(profiles, { start_time: '', end_time: 'x' }).config.in.start_time,
    ).toBeNull();
    const metrics = project.readLoadConfig(inc.datasources![5]!, {}).config;
    expect(metrics.in).toEqual({ type: 'klaviyo', data_source: 'metrics', td_authentication_id: 360030 });
  });

  it('parseLoadConfig reports an unknown name with the file', () => {
    const e = caught(() => parseLoadConfig('config/a.yml', 'in:\n  type: ${nope}\n', {}));
    expect(e.message).toBe('cannot evaluate ${nope}: nope is not defined');
    expect(e.file).toBe('config/a.yml');
  });

  it('parseLoadConfig refuses an in.type other than klaviyo (run reads load configs this way)', () => {
    const text = (type: string) => `in:\n${type}  data_source: events\nout:\n  mode: append\n`;
    const typo = caught(() => parseLoadConfig('config/a.yml', text('  type: ${t}\n'), { t: 'klaviyoo' }));
    expect(typo).toMatchObject({
      code: 'LOAD_TYPE',
      kind: 'config',
      file: 'config/a.yml',
      line: 2,
      key: 'in.type',
    });
    expect(typo.message).toBe('in.type is "klaviyoo"; klaviyo-ingest runs in.type: klaviyo loads only');
    expect(caught(() => parseLoadConfig('config/a.yml', text(''), {}))).toMatchObject({
      code: 'LOAD_TYPE',
      line: 1,
    });
    expect(parseLoadConfig('config/a.yml', text('  type: klaviyo\n'), {}).in.type).toBe('klaviyo');
  });
});

describe('credentials', () => {
  it('prefers KLAVIYO_API_KEY / KLAVIYO_REVISION over the file', () => {
    const dir = freshProject();
    writeFileSync(
      path.join(dir, 'credentials_ingestion.json'),
      JSON.stringify({ klaviyo_api_token: 'file-key-aaaa', klaviyo_revision_time: '2025-01-15' }),
      { mode: 0o600 },
    );
    const env = createCredentialsResolver(dir, {
      KLAVIYO_API_KEY: 'env-key-bbbb',
      KLAVIYO_REVISION: '2026-07-15',
    });
    expect(env.resolve(360030)).toEqual({
      apiKey: 'env-key-bbbb',
      revision: '2026-07-15',
      source: 'env KLAVIYO_API_KEY',
      revisionSource: 'env KLAVIYO_REVISION',
    });
    const file = createCredentialsResolver(dir, {});
    expect(file.resolve(360030)).toMatchObject({ apiKey: 'file-key-aaaa', revision: '2025-01-15' });
    expect(redact('x file-key-aaaa y')).toBe('x *** y');
  });

  it('resolves per td_authentication_id from accounts, else the top-level pair', () => {
    const dir = freshProject();
    writeFileSync(
      path.join(dir, 'credentials_ingestion.json'),
      JSON.stringify({
        klaviyo_api_token: 'top-key-cccc',
        klaviyo_revision_time: '2025-01-15',
        accounts: { '111': { klaviyo_api_token: 'acct-key-dddd', klaviyo_revision_time: '2026-04-15' } },
      }),
      { mode: 0o600 },
    );
    const creds = createCredentialsResolver(dir, {});
    expect(creds.resolve(111)).toMatchObject({ apiKey: 'acct-key-dddd', revision: '2026-04-15' });
    expect(creds.resolve('222')).toMatchObject({ apiKey: 'top-key-cccc', revision: '2025-01-15' });
    expect(creds.warnings).toEqual([]);
  });

  it('looks in the parent folder, and warns when the file is readable by others', () => {
    const dir = freshProject();
    const parentFile = path.join(path.dirname(dir), 'credentials_ingestion.json');
    writeFileSync(parentFile, JSON.stringify({ klaviyo_api_token: 'parent-key-eeee' }));
    chmodSync(parentFile, 0o644);
    const creds = createCredentialsResolver(dir, {});
    expect(creds.file).toBe(parentFile);
    expect(creds.resolve(null).apiKey).toBe('parent-key-eeee');
    expect(creds.warnings).toHaveLength(1);
    expect(creds.warnings[0]).toContain('readable by other users');
  });

  it('never puts a key in an error', () => {
    const dir = freshProject();
    const secret = 'pk_secretsecretsecretsecret99';
    writeFileSync(path.join(dir, 'credentials_ingestion.json'), `{"klaviyo_api_token": ${secret}}`, {
      mode: 0o600,
    });
    const bad = caught(() => createCredentialsResolver(dir, {}));
    expect(bad.code).toBe('CREDENTIALS_INVALID');
    expect(bad.render()).not.toContain(secret);
    const none = caught(() => createCredentialsResolver(freshProject(), {}).resolve(360030));
    expect(none.code).toBe('CREDENTIALS_MISSING');
    expect(none.kind).toBe('config');
  });
});
