/**
 * Unknown keys in a datasource entry and in a load config's `in:` / `out:`. A key one or two
 * letters away from a known one (`incremental_feild`) is a typo: an error with "did you mean",
 * because the real key then silently goes missing. Any other unknown key is a warning (ignored).
 */
import { DatasourceSchema } from '../config-files.js';
import { LoadConfigInSchema } from '../load-config.js';
import { isPlainObject, type YamlFile } from '../yaml.js';
import { datasourceRefs, keyOf, lineOf } from './lists.js';
import type { RuleContext, RuleGroup } from './types.js';

const DATASOURCE_KEYS = Object.keys(DatasourceSchema.shape);
/** What TD's Klaviyo input takes (and we read) under `in:`. */
const IN_KEYS = [...Object.keys(LoadConfigInSchema.shape), 'additional_fields'];
const OUT_KEYS = ['mode'];
const TOP_KEYS = ['in', 'filters', 'out', 'exec'];

/** Levenshtein distance, with an adjacent swap counted as one edit (feild -> field). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key `key` was most likely meant to be, or null. */
export function didYouMean(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = key.length <= 4 ? 1 : key.length <= 8 ? 2 : 3;
  return best !== null && bestDistance <= allowed ? best : null;
}

function checkKeys(
  ctx: RuleContext,
  value: Record<string, unknown>,
  known: readonly string[],
  where: { file: string; key: (k: string) => string; line: (k: string) => number | undefined; what: string },
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = didYouMean(key, known);
    const verdict =
      guess && Object.hasOwn(value, guess)
        ? {
            severity: 'error' as const,
            message: `unknown key '${key}' in ${where.what} (it also sets '${guess}'; a leftover typo?)`,
            fix: `Delete '${key}'.`,
          }
        : guess
          ? {
              severity: 'error' as const,
              message: `unknown key '${key}' in ${where.what}: did you mean '${guess}'?`,
              fix: `Rename '${key}' to '${guess}'.`,
            }
          : {
              severity: 'warning' as const,
              message: `unknown key '${key}' in ${where.what} is ignored`,
              fix: `Remove '${key}' or use one of: ${known.join(', ')}.`,
            };
    ctx.report({
      code: 'UNKNOWN_KEY',
      file: where.file,
      line: where.line(key),
      key: where.key(key),
      ...verdict,
    });
  }
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const part of path) {
    if (Array.isArray(node) && typeof part === 'number') node = node[part];
    else if (isPlainObject(node) && typeof part === 'string') node = node[part];
    else return undefined;
  }
  return node;
}

function checkLoadConfig(ctx: RuleContext, raw: YamlFile): void {
  if (!isPlainObject(raw.value)) return;
  const at = (path: string[]) => ({
    file: raw.file,
    key: (k: string) => [...path, k].join('.'),
    line: (k: string) => raw.lineOf([...path, k]),
  });
  checkKeys(ctx, raw.value, TOP_KEYS, { ...at([]), what: 'the load config' });
  if (isPlainObject(raw.value.in))
    checkKeys(ctx, raw.value.in, IN_KEYS, { ...at(['in']), what: 'the in: section' });
  if (isPlainObject(raw.value.out))
    checkKeys(ctx, raw.value.out, OUT_KEYS, { ...at(['out']), what: 'the out: section' });
}

export const keyRules: RuleGroup = {
  name: 'keys',
  codes: ['UNKNOWN_KEY'],
  check(ctx) {
    const seenConfigs = new Set<string>();
    for (const ref of datasourceRefs(ctx.snapshot)) {
      // The item as written (the parsed one has every known key filled in).
      const written = valueAt(ref.yaml.value, ref.at);
      const d = isPlainObject(written) ? written : (ref.datasource as Record<string, unknown>);
      checkKeys(ctx, d, DATASOURCE_KEYS, {
        file: ref.yaml.file,
        key: (k) => keyOf(ref, k),
        line: (k) => lineOf(ref, k),
        what: `datasource ${String(d.name ?? ref.index)}`,
      });
      const file = `config/${ref.datasource.config_file}`;
      if (seenConfigs.has(file) || !ctx.snapshot.files.exists(file)) continue;
      seenConfigs.add(file);
      try {
        checkLoadConfig(ctx, ctx.snapshot.files.yaml(file));
      } catch {
        // an unreadable or malformed load config is reported by the load-config rules
      }
    }
  },
};
