// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigRules } from '../../../src/project/validation/load-configs.js';
import type { Finding } from '../../../src/project/validation/types.js';
import { LOAD_CONFIG_METRICS } from '../../../src/scaffold/index.js';
import { sourceNames } from '../../../src/sources/registry.js';
import { editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { lineOf, type RuleCase, ruleFindings, testRuleCases } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const EVENTS_LOAD = 'config/klaviyo_events_load.yml';
const METRICS_LOAD = 'config/klaviyo_metric_data_load.yml';
const PROFILES_LOAD = 'config/klaviyo_profiles_load.yml';

/**
 * The findings, each once: a load config shared by the hist and the inc datasource of a source is
 * checked for both (`validate` drops the repeats).
 */
function findings(dir: string): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of ruleFindings(loadConfigRules, dir)) seen.set(JSON.stringify(f), f);
  return [...seen.values()];
}

const CAMPAIGNS_TAIL =
  '    default_start_time: "2025-09-01T00:00:00.000000"\n    workflow_name: klaviyo_ingest.dig\n    mode: append\n\n  - name: lists';
const METRICS_AUTH = '  td_authentication_id: 360030\n';
const EVENTS_END = '  end_time: ${td.last_results.end_time}\n';

/** Each case: a fresh project, these edits, exactly these findings (each once). */
const CASES: RuleCase[] = [
  { name: 'find nothing in the project init writes', edits: [], findings: [] },
  {
    name: 'LOAD_USES_TABLE_FIELD: the table column passed as the API field',
    edits: [
      {
        file: PROFILES_LOAD,
        from: '${datasource.incremental_field_connector}',
        to: '${datasource.incremental_field}',
      },
    ],
    findings: [
      {
        file: PROFILES_LOAD,
        at: 'incremental_field:',
        code: 'LOAD_USES_TABLE_FIELD',
        key: 'in.incremental_field',
        message:
          'load config passes ${datasource.incremental_field} (the table column) as in.incremental_field',
        fix: 'Write "incremental_field: ${datasource.incremental_field_connector}" (the API field name).',
      },
    ],
  },
  {
    name: 'UNKNOWN_INCREMENTAL_FIELD: a connector field the source does not take (campaigns with _at)',
    edits: [
      {
        file: DS,
        from: `incremental_field_connector: updated\n${CAMPAIGNS_TAIL}`,
        to: `incremental_field_connector: updated_at\n${CAMPAIGNS_TAIL}`,
      },
    ],
    findings: [
      {
        file: DS,
        at: 'incremental_field_connector: updated_at',
        code: 'UNKNOWN_INCREMENTAL_FIELD',
        key: 'inc_datasources[2].incremental_field_connector',
        message:
          'Unknown incremental field "updated_at" for data source campaigns: the connector takes updated, created, scheduled',
        fix: 'Campaigns take created / updated in the connector (created_at / updated_at stay in the table incremental_field).',
      },
    ],
  },
  {
    name: 'CAMPAIGNS_TABLE_FIELD: the campaigns table column keeps _at',
    edits: [{ file: DS, from: 'incremental_field: updated_at\n', to: 'incremental_field: updated\n' }],
    findings: [
      {
        file: DS,
        at: { text: 'incremental_field: updated\n    incremental_field_connector: updated\n', nth: 2 },
        code: 'CAMPAIGNS_TABLE_FIELD',
        key: 'inc_datasources[2].incremental_field',
        message:
          'campaigns table field must be "updated_at" (with _at) for connector field "updated", not "updated"',
        fix: 'Set incremental_field: updated_at and incremental_field_connector: updated.',
      },
    ],
  },
  {
    name: 'TABLE_FIELD_MISMATCH: a table field other than the column the connector field fills',
    edits: [{ file: DS, from: 'incremental_field: datetime\n', to: 'incremental_field: event_time\n' }],
    findings: [
      {
        file: DS,
        at: 'incremental_field: event_time',
        code: 'TABLE_FIELD_MISMATCH',
        key: 'hist_datasources[0].incremental_field',
        message:
          'table field "event_time" does not match the column "datetime" that connector field "datetime" fills',
        fix: 'Set incremental_field: datetime.',
      },
    ],
  },
  {
    name: 'EVENTS_SKIP_RELATED: the events load config must skip related objects (line of in:)',
    edits: [{ file: EVENTS_LOAD, from: '  skip_related_objects: true\n', to: '' }],
    findings: [
      {
        file: EVENTS_LOAD,
        at: 'in:',
        code: 'EVENTS_SKIP_RELATED',
        key: 'in.skip_related_objects',
        message: 'events load config must set in.skip_related_objects: true',
        fix: 'Add "skip_related_objects: true" under in: in config/klaviyo_events_load.yml (Type 2 load config).',
      },
    ],
  },
  {
    name: 'EVENTS_INCREMENTAL_FIELD: the events load config passes no incremental_field',
    edits: [
      {
        file: EVENTS_LOAD,
        from: EVENTS_END,
        to: `${EVENTS_END}  incremental_field: \${datasource.incremental_field_connector}\n`,
      },
    ],
    findings: [
      {
        file: EVENTS_LOAD,
        at: 'incremental_field:',
        code: 'EVENTS_INCREMENTAL_FIELD',
        key: 'in.incremental_field',
        message:
          'events load config must not pass in.incremental_field (events are windowed by start_time/end_time)',
        fix: 'Remove "incremental_field:" from config/klaviyo_events_load.yml.',
      },
    ],
  },
  {
    name: 'METRICS_INCREMENTAL: the metrics load config sets no window',
    edits: [{ file: METRICS_LOAD, from: METRICS_AUTH, to: `${METRICS_AUTH}  incremental: true\n` }],
    findings: [
      {
        file: METRICS_LOAD,
        at: 'incremental: true',
        code: 'METRICS_INCREMENTAL',
        key: 'in.incremental',
        message: 'metrics is a full load: the load config must not set in.incremental',
        fix: 'Remove incremental, start_time, end_time and incremental_field from config/klaviyo_metric_data_load.yml (Type 3 load config).',
      },
    ],
  },
  {
    name: 'UNKNOWN_DATA_SOURCE from the datasource name is reported at the name',
    edits: [{ file: DS, from: '  - name: metrics', to: '  - name: metric' }],
    findings: [
      {
        file: DS,
        at: '- name: metric\n',
        code: 'UNKNOWN_DATA_SOURCE',
        key: 'inc_datasources[5].name',
        message: 'data_source "metric" (datasource klaviyo_metric_data) is not a Klaviyo data source',
        fix: `Use one of: ${sourceNames().join(', ')}.`,
      },
    ],
  },
  {
    name: 'UNKNOWN_DATA_SOURCE written in the load config is reported there',
    edits: [{ file: METRICS_LOAD, from: 'data_source: ${datasource.name}', to: 'data_source: teapot' }],
    findings: [
      {
        file: METRICS_LOAD,
        at: 'data_source: teapot',
        code: 'UNKNOWN_DATA_SOURCE',
        key: 'in.data_source',
        message: 'data_source "teapot" (datasource klaviyo_metric_data) is not a Klaviyo data source',
        fix: `Use one of: ${sourceNames().join(', ')}.`,
      },
    ],
  },
  {
    name: 'REREAD_NEEDS_MERGE: a child collection read whole every run, appended (a warning)',
    edits: [{ file: DS, from: '  - name: metrics', to: '  - name: campaign_messages' }],
    findings: [
      {
        file: DS,
        at: { text: 'mode: append', nth: 11 },
        severity: 'warning',
        code: 'REREAD_NEEDS_MERGE',
        key: 'inc_datasources[5].mode',
        message:
          'campaign_messages reads every record again each run: with mode append datasource klaviyo_metric_data would keep a row per read',
        fix: 'Set mode: merge (one row per id, the newest read wins).',
      },
    ],
  },
  {
    name: 'REPORT_NEEDS_KEY and REREAD_NEEDS_MERGE: a flow series report without its conversion metric, appended',
    edits: [
      { file: DS, from: '  - name: metrics', to: '  - name: flow_series_daily' },
      {
        file: DS,
        from: 'incremental_field:\n    incremental_field_connector:\n',
        to: 'incremental_field: date\n    incremental_field_connector: date\n',
      },
    ],
    findings: [
      {
        file: DS,
        at: { text: 'mode: append', nth: 11 },
        code: 'REREAD_NEEDS_MERGE',
        key: 'inc_datasources[5].mode',
        message:
          'flow_series_daily reads its recent days again each run: with mode append datasource klaviyo_metric_data would keep a row per read',
        fix: 'Set mode: merge (one row per id, the newest read wins).',
      },
      {
        file: METRICS_LOAD,
        at: 'in:',
        code: 'REPORT_NEEDS_KEY',
        key: 'in.conversion_metric_id',
        message: 'flow_series_daily needs in.conversion_metric_id in config/klaviyo_metric_data_load.yml',
        fix: 'Add "conversion_metric_id: <metric id>" (or "conversion_metric: <metric name>") under in: (the metric whose events count as conversions, e.g. Placed Order).',
      },
      {
        file: METRICS_LOAD,
        at: 'in:',
        code: 'LOAD_NOT_INCREMENTAL',
        key: 'in.incremental_field',
        message:
          'datasource klaviyo_metric_data is incremental but config/klaviyo_metric_data_load.yml passes no in.incremental_field',
        fix: 'Add "incremental_field: ${datasource.incremental_field_connector}" under in: (Type 1 load config).',
      },
      {
        file: METRICS_LOAD,
        at: 'in:',
        code: 'LOAD_NOT_INCREMENTAL',
        key: 'in.incremental',
        message:
          'datasource klaviyo_metric_data is incremental but config/klaviyo_metric_data_load.yml does not set in.incremental: true with start_time/end_time',
        fix: 'Add incremental: true, start_time: ${td.last_results.start_time} and end_time: ${td.last_results.end_time} under in:.',
      },
    ],
  },
];

describe('load config rules', () => {
  testRuleCases(findings, CASES);

  it('METRICS_INCREMENTAL: the metrics datasource leaves both incremental fields empty', () => {
    const dir = editedProject(
      DS,
      'incremental_field:\n    incremental_field_connector:\n',
      'incremental_field: updated\n    incremental_field_connector: updated\n',
    );
    const at = (field: string) => ({
      code: 'METRICS_INCREMENTAL',
      severity: 'error',
      file: DS,
      // The fields follow name, table_name and config_file in the entry.
      line: lineOf(dir, DS, '- name: metrics') + (field === 'incremental_field' ? 3 : 4),
      key: `inc_datasources[5].${field}`,
      message: `metrics is a full load: datasource klaviyo_metric_data must leave ${field} empty`,
      fix: `Write "${field}:" with no value.`,
    });
    expect(findings(dir)).toEqual([at('incremental_field'), at('incremental_field_connector')]);
  });

  it('LOAD_NOT_INCREMENTAL: an incremental datasource with a full-load config', () => {
    const dir = freshProject();
    writeFileSync(path.join(dir, 'config/klaviyo_lists_load.yml'), LOAD_CONFIG_METRICS);
    const file = 'config/klaviyo_lists_load.yml';
    const inLine = lineOf(dir, file, 'in:');
    const expected = (table: string) => [
      {
        code: 'LOAD_NOT_INCREMENTAL',
        severity: 'error',
        file,
        line: inLine,
        key: 'in.incremental_field',
        message: `datasource ${table} is incremental but ${file} passes no in.incremental_field`,
        fix: 'Add "incremental_field: ${datasource.incremental_field_connector}" under in: (Type 1 load config).',
      },
      {
        code: 'LOAD_NOT_INCREMENTAL',
        severity: 'error',
        file,
        line: inLine,
        key: 'in.incremental',
        message: `datasource ${table} is incremental but ${file} does not set in.incremental: true with start_time/end_time`,
        fix: 'Add incremental: true, start_time: ${td.last_results.start_time} and end_time: ${td.last_results.end_time} under in:.',
      },
    ];
    expect(findings(dir)).toEqual([...expected('klaviyo_lists_hist'), ...expected('klaviyo_lists')]);
  });

  it('a load config that does not parse is a finding with its file and line, not a crash', () => {
    const dir = editedProject(METRICS_LOAD, '  type: klaviyo\n', '  type: [klaviyo\n');
    const [finding, ...more] = findings(dir);
    expect(more).toEqual([]);
    expect(finding).toMatchObject({ code: 'YAML_SYNTAX', severity: 'error', file: METRICS_LOAD });
    expect(finding?.line).toBeGreaterThanOrEqual(lineOf(dir, METRICS_LOAD, 'type: [klaviyo'));
    expect(finding?.fix).not.toBe('');
  });
});
