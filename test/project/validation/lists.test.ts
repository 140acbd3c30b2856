// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { afterAll, describe, expect, it } from 'vitest';
import { datasourceRefs, isIncremental, keyOf, lineOf } from '../../../src/project/validation/lists.js';
import { edit, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { lineOf as lineIn, snapshotOf } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const INC = 'klaviyo_ingest_inc.dig';

describe('datasource lists', () => {
  it('lists each datasource once, with its list, index, file and the workflow iterating it', () => {
    const refs = datasourceRefs(snapshotOf(freshProject()));
    expect(
      refs.map(
        (r) => `${r.listName}[${r.index}] ${r.datasource.table_name} ${r.yaml.file} ${r.workflow?.file}`,
      ),
    ).toEqual([
      `hist_datasources[0] klaviyo_events_hist ${DS} klaviyo_ingest_hist.dig`,
      `hist_datasources[1] klaviyo_email_templates_hist ${DS} klaviyo_ingest_hist.dig`,
      `hist_datasources[2] klaviyo_campaigns_hist ${DS} klaviyo_ingest_hist.dig`,
      `hist_datasources[3] klaviyo_lists_hist ${DS} klaviyo_ingest_hist.dig`,
      `hist_datasources[4] klaviyo_profiles_hist ${DS} klaviyo_ingest_hist.dig`,
      `inc_datasources[0] klaviyo_events ${DS} ${INC}`,
      `inc_datasources[1] klaviyo_email_templates ${DS} ${INC}`,
      `inc_datasources[2] klaviyo_campaigns ${DS} ${INC}`,
      `inc_datasources[3] klaviyo_lists ${DS} ${INC}`,
      `inc_datasources[4] klaviyo_profiles ${DS} ${INC}`,
      `inc_datasources[5] klaviyo_metric_data ${DS} ${INC}`,
    ]);
  });

  it('names the key and line of an item and of its fields', () => {
    const dir = freshProject();
    const campaigns = datasourceRefs(snapshotOf(dir)).find(
      (r) => r.datasource.table_name === 'klaviyo_campaigns',
    );
    expect(campaigns).toBeDefined();
    expect(keyOf(campaigns!)).toBe('inc_datasources[2]');
    expect(keyOf(campaigns!, 'mode')).toBe('inc_datasources[2].mode');
    expect(lineOf(campaigns!, 'table_name')).toBe(lineIn(dir, DS, 'table_name: klaviyo_campaigns\n'));
    expect(lineOf(campaigns!)).toBe(lineIn(dir, DS, '  - name: campaigns', 2));
  });

  it('a list written in the workflow itself lives in the .dig file, under _export', () => {
    const dir = freshProject();
    edit(dir, INC, (t) =>
      t
        .replace(
          '  !include : config/hist_date_ranges.yml\n',
          '  !include : config/hist_date_ranges.yml\n  my_list:\n    - name: lists\n      table_name: my_lists\n      config_file: klaviyo_lists_load.yml\n      incremental_field: updated\n      incremental_field_connector: updated\n      default_start_time: "2025-09-01T00:00:00.000000"\n      workflow_name: klaviyo_ingest.dig\n      mode: append\n',
        )
        .replace('datasource: ${inc_datasources}', 'datasource: ${my_list}'),
    );
    const refs = datasourceRefs(snapshotOf(dir));
    const mine = refs.filter((r) => r.listName === 'my_list');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.yaml.file).toBe(INC);
    expect(keyOf(mine[0]!, 'table_name')).toBe('_export.my_list[0].table_name');
    expect(lineOf(mine[0]!, 'table_name')).toBe(lineIn(dir, INC, 'table_name: my_lists'));
    // The datasources file's lists still count (nothing iterates inc_datasources now).
    expect(refs.filter((r) => r.listName === 'inc_datasources')).toHaveLength(6);
  });

  it('a datasource is incremental when it names a table field', () => {
    const refs = datasourceRefs(snapshotOf(freshProject()));
    const byTable = new Map(refs.map((r) => [r.datasource.table_name, r.datasource]));
    expect(isIncremental(byTable.get('klaviyo_events')!)).toBe(true);
    expect(isIncremental(byTable.get('klaviyo_metric_data')!)).toBe(false);
    expect(isIncremental({ ...byTable.get('klaviyo_events')!, incremental_field: '' })).toBe(false);
  });
});
