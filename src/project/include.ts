/**
 * Digdag's `!include : path`: the path is relative to the including file's folder and may not
 * contain `..` (nor be absolute); the included file must hold a mapping; its keys are merged into
 * the mapping that holds the include, in order, objects deep-merged, anything else replaced.
 * Included files may include others.
 */
import path from 'node:path';
import { configError } from '../util/errors.js';
import type { ProjectFiles } from './files.js';
import { formatPath, INCLUDE_KEY_PREFIX, isPlainObject, type YamlFile, type YamlPath } from './yaml.js';

/** For mappings that received included keys: key -> project-relative file the key came from. */
const origins = new WeakMap<object, Record<string, string>>();

export function keyOrigins(mapping: object): Readonly<Record<string, string>> {
  return origins.get(mapping) ?? {};
}

/** Deep merge `source` into `target` (objects merged, everything else replaced), Digdag's Config.merge. */
function deepMerge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(existing) && isPlainObject(value)) {
      target[key] = deepMerge({ ...existing }, value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

const MAX_DEPTH = 16;

export function expandIncludes(files: ProjectFiles, from: YamlFile): unknown {
  return expand(files, from, from.value, [], [from.file]);
}

function expand(files: ProjectFiles, from: YamlFile, value: unknown, at: YamlPath, chain: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => expand(files, from, item, [...at, i], chain));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  const seen: Record<string, string> = {};
  let included = false;
  for (const [key, child] of Object.entries(value)) {
    if (!key.startsWith(INCLUDE_KEY_PREFIX)) {
      const expanded = expand(files, from, child, [...at, key], chain);
      deepMerge(out, { [key]: expanded });
      continue;
    }
    included = true;
    const target = includeTarget(from, child, [...at, key]);
    if (chain.includes(target) || chain.length > MAX_DEPTH) {
      throw configError(`!include cycle: ${[...chain, target].join(' -> ')}`, {
        code: 'INCLUDE_CYCLE',
        file: from.file,
        key: formatPath(at),
        fix: 'Remove the !include that includes a file already being included.',
      });
    }
    const inner = files.yaml(target, { includes: true });
    if (!isPlainObject(inner.value)) {
      throw configError(`included file ${target} must contain a mapping (key: value pairs)`, {
        code: 'INCLUDE_NOT_MAPPING',
        file: from.file,
        key: formatPath(at),
        line: from.lineOf(at),
        fix: `Make ${target} a YAML mapping, e.g. "databases:\\n  src: klaviyo_src".`,
      });
    }
    const expanded = expand(files, inner, inner.value, [], [...chain, target]) as Record<string, unknown>;
    deepMerge(out, expanded);
    for (const k of Object.keys(expanded)) seen[k] = target;
  }
  if (included) origins.set(out, seen);
  return out;
}

function includeTarget(from: YamlFile, raw: unknown, at: YamlPath): string {
  const fail = (message: string) =>
    configError(message, {
      code: 'INCLUDE_PATH',
      file: from.file,
      key: formatPath(at.slice(0, -1)),
      line: from.lineOf(at.slice(0, -1)),
      fix: 'Write "!include : config/<file>.yml" with a path inside the including file\'s folder.',
    });
  if (typeof raw !== 'string' || raw.trim() === '') throw fail('!include needs a file path');
  const rel = raw.trim();
  if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    throw fail(`!include path "${rel}" must not include ".." nor be absolute`);
  }
  return path.posix.normalize(path.posix.join(path.posix.dirname(from.file), rel.replace(/\\/g, '/')));
}
