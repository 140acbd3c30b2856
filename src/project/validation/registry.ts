/** The rule groups, and running them over a project folder into one report. */
import { IngestError } from '../../util/errors.js';
import { type ProjectOptions, type ProjectSnapshot, readProjectSnapshot } from '../project.js';
import { datasourceRules } from './datasources.js';
import { engineStepRules } from './engine-steps.js';
import { keyRules } from './keys.js';
import { fromError, loadConfigRules } from './load-configs.js';
import { revisionRules } from './revision.js';
import { secretRules } from './secrets.js';
import { timestampRules } from './timestamps.js';
import type { Finding, RuleGroup, ValidationReport } from './types.js';
import { workflowRules } from './workflows.js';

const RULE_GROUPS: readonly RuleGroup[] = [
  workflowRules,
  keyRules,
  timestampRules,
  datasourceRules,
  loadConfigRules,
  secretRules,
  revisionRules,
  engineStepRules,
];

export interface ValidateOptions extends ProjectOptions {
  now?: Date;
}

function sortKey(f: Finding): string {
  return `${f.severity === 'error' ? 0 : 1}|${f.file}|${String(f.line ?? 0).padStart(6, '0')}|${f.code}`;
}

/** Run every rule over a project snapshot. */
export function validateSnapshot(snapshot: ProjectSnapshot, options: ValidateOptions = {}): ValidationReport {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const report = (finding: Finding) => {
    const clean: Finding = { ...finding };
    if (clean.line === undefined) delete clean.line;
    if (clean.key === undefined || clean.key === '') delete clean.key;
    const id = `${clean.code}|${clean.file}|${clean.key ?? ''}|${clean.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    findings.push(clean);
  };
  for (const problem of snapshot.problems) report(fromError(problem));
  const context = { snapshot, now: options.now ?? new Date(), report };
  for (const group of RULE_GROUPS) {
    try {
      group.check(context);
    } catch (error) {
      if (!(error instanceof IngestError)) throw error;
      report(fromError(error));
    }
  }
  findings.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { ok: errors === 0, errors, warnings: findings.length - errors, findings };
}

/** Read a project folder and run every rule. Throws (kind 'config') only when the folder is not a project. */
export function validateProject(dir: string, options: ValidateOptions = {}): ValidationReport {
  return validateSnapshot(readProjectSnapshot(dir, options), options);
}

const ROOT_CAUSE_CODES = [
  'YAML_SYNTAX',
  'YAML_DUPLICATE_KEY',
  'UNKNOWN_KEY',
  'UNSAFE_TABLE_NAME',
  'UNSAFE_IDENTIFIER',
];

/** Throw the first error finding as an IngestError (for `run`, which must not start on a broken project). */
export function assertValid(report: ValidationReport): void {
  const errors = report.findings.filter((f) => f.severity === 'error');
  // A root cause (a syntax error, a misspelt key) explains the errors that follow from it: show it first.
  const first = errors.find((f) => ROOT_CAUSE_CODES.includes(f.code)) ?? errors[0];
  if (!first) return;
  const more =
    errors.length > 1
      ? ` (${errors.length - 1} more error${errors.length > 2 ? 's' : ''}: run klaviyo-ingest validate to list them)`
      : '';
  throw new IngestError(`${first.message} [${first.code}]${more}`, {
    code: first.code,
    kind: 'config',
    file: first.file,
    ...(first.key === undefined ? {} : { key: first.key }),
    ...(first.line === undefined ? {} : { line: first.line }),
    fix: first.fix,
  });
}
