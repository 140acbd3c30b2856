/** What a validation rule reports, and what it gets to look at. */
import type { ProjectSnapshot } from '../project.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  /** Stable code, e.g. `TIME_FORMAT`. */
  code: string;
  severity: Severity;
  /** Project-relative file. */
  file: string;
  line?: number;
  /** Dotted key inside the file, e.g. `inc_datasources[2].incremental_field`. */
  key?: string;
  message: string;
  fix: string;
}

export interface RuleContext {
  snapshot: ProjectSnapshot;
  /** "Now" for the sample window the load configs are filled with. */
  now: Date;
  report(finding: Finding): void;
}

export interface RuleGroup {
  name: string;
  /** The codes this group can report (documentation and tests). */
  codes: readonly string[];
  check(context: RuleContext): void;
}

export interface ValidationReport {
  ok: boolean;
  errors: number;
  warnings: number;
  findings: Finding[];
}
