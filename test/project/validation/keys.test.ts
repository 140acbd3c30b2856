// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { afterAll, describe, expect, it } from 'vitest';
import { didYouMean, editDistance, keyRules } from '../../../src/project/validation/keys.js';
import { edit, editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { lineOf, type RuleCase, ruleFindings, testRuleCases } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const PROFILES_LOAD = 'config/klaviyo_profiles_load.yml';
const METRICS = '  - name: metrics\n';

/** Each case: a fresh project, these edits, exactly these findings. */
const CASES: RuleCase[] = [
  { name: 'find nothing in the project init writes', edits: [], findings: [] },
  {
    name: 'a typo next to the real key in a datasource: an error that says to delete it',
    edits: [{ file: DS, from: METRICS, to: `${METRICS}    tabel_name: x\n` }],
    findings: [
      {
        file: DS,
        at: 'tabel_name: x',
        code: 'UNKNOWN_KEY',
        key: 'inc_datasources[5].tabel_name',
        message:
          "unknown key 'tabel_name' in datasource metrics (it also sets 'table_name'; a leftover typo?)",
        fix: "Delete 'tabel_name'.",
      },
    ],
  },
  {
    name: 'a typo instead of the real key: an error with "did you mean"',
    edits: [
      {
        file: DS,
        from: 'config_file: klaviyo_profiles_load.yml\n    incremental_field: updated',
        to: 'config_file: klaviyo_profiles_load.yml\n    incremental_feild: updated',
      },
    ],
    findings: [
      {
        file: DS,
        at: 'incremental_feild: updated',
        code: 'UNKNOWN_KEY',
        key: 'inc_datasources[4].incremental_feild',
        message: "unknown key 'incremental_feild' in datasource profiles: did you mean 'incremental_field'?",
        fix: "Rename 'incremental_feild' to 'incremental_field'.",
      },
    ],
  },
  {
    name: 'a typo under a load config in: is an error at in.<key>',
    edits: [
      {
        file: PROFILES_LOAD,
        from: '  incremental_field: ${datasource',
        to: '  incremental_feild: ${datasource',
      },
    ],
    findings: [
      {
        file: PROFILES_LOAD,
        at: 'incremental_feild:',
        code: 'UNKNOWN_KEY',
        key: 'in.incremental_feild',
        message: "unknown key 'incremental_feild' in the in: section: did you mean 'incremental_field'?",
        fix: "Rename 'incremental_feild' to 'incremental_field'.",
      },
    ],
  },
  {
    name: 'unknown keys under out: and at the top of a load config',
    // out: and its mode are the last lines of the file.
    edits: [
      {
        file: PROFILES_LOAD,
        from: '  mode: ${datasource.mode}\n',
        to: '  mdoe: append\nexec: {}\nnotes: x\n',
      },
    ],
    findings: [
      {
        file: PROFILES_LOAD,
        at: 'notes: x',
        severity: 'warning',
        code: 'UNKNOWN_KEY',
        key: 'notes',
        message: "unknown key 'notes' in the load config is ignored",
        fix: "Remove 'notes' or use one of: in, filters, out, exec.",
      },
      {
        file: PROFILES_LOAD,
        at: 'mdoe: append',
        code: 'UNKNOWN_KEY',
        key: 'out.mdoe',
        message: "unknown key 'mdoe' in the out: section: did you mean 'mode'?",
        fix: "Rename 'mdoe' to 'mode'.",
      },
    ],
  },
];

describe('key rules', () => {
  testRuleCases(keyRules, CASES);

  it('any other unknown datasource key: a warning listing the known keys', () => {
    const dir = editedProject(DS, METRICS, `${METRICS}    owner: data-team\n`);
    const [finding, ...more] = ruleFindings(keyRules, dir);
    expect(more).toEqual([]);
    expect(finding).toMatchObject({
      code: 'UNKNOWN_KEY',
      severity: 'warning',
      file: DS,
      line: lineOf(dir, DS, 'owner: data-team'),
      key: 'inc_datasources[5].owner',
      message: "unknown key 'owner' in datasource metrics is ignored",
    });
    expect(finding?.fix).toMatch(
      /^Remove 'owner' or use one of: .*\btable_name\b.*\bincremental_field_connector\b/,
    );
  });

  it('a load config shared by several datasources is checked once', () => {
    const dir = freshProject();
    edit(dir, DS, (t) =>
      t.replaceAll('config_file: klaviyo_lists_load.yml', 'config_file: klaviyo_profiles_load.yml'),
    );
    edit(dir, PROFILES_LOAD, (t) => `${t}notes: x\n`);
    expect(ruleFindings(keyRules, dir).map((f) => f.key)).toEqual(['notes']);
  });
});

describe('did you mean', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('feild', 'field')).toBe(1);
    expect(editDistance('mode', 'mode')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('allows more edits for longer keys, and none too far', () => {
    const known = ['mode', 'table_name', 'incremental_field_connector'];
    expect(didYouMean('mdoe', known)).toBe('mode');
    expect(didYouMean('MODE', known)).toBe('mode');
    expect(didYouMean('mo', known)).toBeNull();
    expect(didYouMean('tabel_nmae', known)).toBe('table_name');
    expect(didYouMean('incremental_fild_conector', known)).toBe('incremental_field_connector');
    expect(didYouMean('owner', known)).toBeNull();
  });
});
