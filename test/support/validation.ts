/** One validation rule group run directly on a project folder, and where a text stands in a project file. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type ProjectSnapshot, readProjectSnapshot } from '../../src/project/project.js';
import type { Finding, RuleGroup } from '../../src/project/validation/types.js';

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

/**
 * The finding expected at the line of `file` holding `at` (a text, or its `nth` occurrence): an
 * error unless `finding.severity` says otherwise.
 */
export function findingAt(
  dir: string,
  file: string,
  at: string | { text: string; nth: number },
  finding: Omit<Finding, 'file' | 'line' | 'severity'> & { severity?: Finding['severity'] },
): Finding {
  const line = typeof at === 'string' ? lineOf(dir, file, at) : lineOf(dir, file, at.text, at.nth);
  return { severity: 'error', file, line, ...finding };
}
