/**
 * One validation rule group run directly on a project folder, where a text stands in a project file,
 * and the rule tables: edits of a fresh project and exactly the findings they must bring.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type ProjectSnapshot, readProjectSnapshot } from '../../src/project/project.js';
import type { Finding, RuleGroup } from '../../src/project/validation/types.js';
import { edit, freshProject } from './project.js';

/** "Now" for the rules that fill the load configs' sample window. */
export const RULE_NOW = new Date(Date.UTC(2025, 9, 15, 12, 0, 0));

export interface RuleRunOptions {
  /** Environment for the credentials (default: none, so the machine's KLAVIYO_* do not count). */
  env?: Record<string, string | undefined>;
  now?: Date;
}

/** The project snapshot the rules look at (no environment unless given). */
export function snapshotOf(dir: string, options: RuleRunOptions = {}): ProjectSnapshot {
  return readProjectSnapshot(dir, { env: options.env ?? {} });
}

/** What `group` reports on the project in `dir`, in the order it reports it. */
export function ruleFindings(group: RuleGroup, dir: string, options: RuleRunOptions = {}): Finding[] {
  const findings: Finding[] = [];
  group.check({
    snapshot: snapshotOf(dir, options),
    now: options.now ?? RULE_NOW,
    report: (finding) => findings.push(finding),
  });
  return findings;
}

/** The 1-based line of `rel` (in project `dir`) holding the `nth` (1-based) occurrence of `text`. */
export function lineOf(dir: string, rel: string, text: string, nth = 1): number {
  const content = readFileSync(path.join(dir, rel), 'utf8');
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = content.indexOf(text, at + 1);
    if (at < 0) throw new Error(`${rel} holds "${text}" fewer than ${nth} times`);
  }
  return content.slice(0, at).split('\n').length;
}

/** Where an expected finding stands: the line holding a text, or its `nth` (1-based) occurrence. */
export type FindingPlace = string | { text: string; nth: number };

/**
 * The finding expected at the line of `file` holding `at` (a text, or its `nth` occurrence): an
 * error unless `finding.severity` says otherwise.
 */
export function findingAt(
  dir: string,
  file: string,
  at: FindingPlace,
  finding: Omit<Finding, 'file' | 'line' | 'severity'> & { severity?: Finding['severity'] },
): Finding {
  const line = typeof at === 'string' ? lineOf(dir, file, at) : lineOf(dir, file, at.text, at.nth);
  return { severity: 'error', file, line, ...finding };
}

/** One edit of a fresh project: the first `from` in `file` becomes `to` (an edit that misses throws). */
export interface ProjectEdit {
  file: string;
  from: string;
  to: string;
}

/**
 * A finding a rule case expects: at the line of `file` holding `at`, or with no line when `at` is
 * left out; an error unless `severity` says otherwise.
 */
export type ExpectedFinding = Omit<Finding, 'line' | 'severity'> & {
  at?: FindingPlace;
  severity?: Finding['severity'];
};

/** One row of a rule table: a fresh project, these edits in order, exactly these findings in order. */
export interface RuleCase {
  name: string;
  edits: ProjectEdit[];
  findings: ExpectedFinding[];
}

/**
 * Runs a rule case: what `rules` (a rule group, or a function of the project folder) finds on the
 * edited project, and what the case expects there (lines looked up in the edited files).
 */
export function runRuleCase(
  rules: RuleGroup | ((dir: string) => Finding[]),
  ruleCase: RuleCase,
): { found: Finding[]; expected: Finding[] } {
  const dir = freshProject();
  for (const { file, from, to } of ruleCase.edits) edit(dir, file, (t) => t.replace(from, () => to));
  const found = typeof rules === 'function' ? rules(dir) : ruleFindings(rules, dir);
  const expected = ruleCase.findings.map(
    ({ at, ...finding }): Finding =>
      at === undefined ? { severity: 'error', ...finding } : findingAt(dir, finding.file, at, finding),
  );
  return { found, expected };
}

/**
 * One test per row of a rule table, titled by the case name: what `rules` finds on the edited fresh
 * project is exactly what the case expects, in order. Call it inside the file's `describe`.
 */
export function testRuleCases(rules: RuleGroup | ((dir: string) => Finding[]), cases: RuleCase[]): void {
  // '%s' on the name: vitest cuts a `$name` title short.
  it.each(cases.map((ruleCase): [string, RuleCase] => [ruleCase.name, ruleCase]))('%s', (_name, ruleCase) => {
    const { found, expected } = runRuleCase(rules, ruleCase);
    expect(found).toEqual(expected);
  });
}
