/**
 * The API revision (`KLAVIYO_REVISION` or `klaviyo_revision_time`) must be a revision date Klaviyo
 * could have released: `YYYY-MM-DD` (or `YYYY-MM-DD.pre`), a real date, not before the first
 * revision (2022-10-17). Klaviyo answers anything else with 400 on every
 * request, so it is caught here, before any request.
 */
import { DEFAULT_REVISION } from '../../klaviyo/revisions.js';
import type { RuleGroup } from './types.js';

const FIRST_REVISION = '2022-10-17';
const REVISION = /^(\d{4})-(\d{2})-(\d{2})(\.pre)?$/;

/** Why `value` cannot be a Klaviyo revision, or null when it can. */
export function revisionProblem(value: string): string | null {
  const m = REVISION.exec(value);
  if (!m) return 'is not in the YYYY-MM-DD format';
  const [, y, mo, d] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCMonth() + 1 !== Number(mo) || date.getUTCDate() !== Number(d)) return 'is not a real date';
  const day = `${y}-${mo}-${d}`;
  if (day < FIRST_REVISION) return `is older than Klaviyo's first API revision (${FIRST_REVISION})`;
  return null;
}

export const revisionRules: RuleGroup = {
  name: 'revision',
  codes: ['REVISION_INVALID'],
  check({ snapshot, report }) {
    for (const revision of snapshot.credentials?.revisions ?? []) {
      const problem = revisionProblem(revision.value);
      if (!problem) continue;
      const env = revision.key === 'KLAVIYO_REVISION';
      report({
        code: 'REVISION_INVALID',
        severity: 'error',
        file: revision.file,
        key: revision.key,
        message: `API revision "${revision.value}" ${problem}; Klaviyo rejects every request with it`,
        fix: env
          ? `Set KLAVIYO_REVISION to a Klaviyo API revision such as ${DEFAULT_REVISION} (YYYY-MM-DD), or unset it to use ${DEFAULT_REVISION}.`
          : `Set "${revision.key}" to a Klaviyo API revision such as "${DEFAULT_REVISION}" (YYYY-MM-DD), or remove it to use ${DEFAULT_REVISION}.`,
      });
    }
  },
};
