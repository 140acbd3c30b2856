/**
 * YAML as Digdag reads it: YAML core schema (booleans true/false, no timestamp tag, so
 * `2025-09-01 00:00:00` stays a string), duplicate keys are an error, an empty value is null.
 * `!include : path` keys are rewritten to unique `!include:<n>` keys before parsing (as Digdag
 * does with a UUID), so several may sit in one mapping; `include.ts` expands them.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { configError } from '../util/errors.js';

export const INCLUDE_KEY_PREFIX = '!include:';

export type YamlPath = readonly (string | number)[];

export interface YamlFile {
  /** Path relative to the project folder, with `/` separators. */
  file: string;
  text: string;
  value: unknown;
  /** 1-based line of the key (or item) at `path`, or of the deepest part of it that exists. */
  lineOf(path: YamlPath): number | undefined;
}

const INCLUDE_LINE = /^(\s*(?:-\s+)?)!include(\s+):/gm;

function rewriteIncludeKeys(text: string): string {
  let n = 0;
  return text.replace(
    INCLUDE_LINE,
    (_m, lead: string, space: string) => `${lead}'${INCLUDE_KEY_PREFIX}${n++}'${space}:`,
  );
}

/** `inc_datasources[2].table_name` */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

/** Parse `text` (the contents of `file`) with Digdag's rules; throws an IngestError with file and line. */
export function parseYamlFile(file: string, text: string, options: { includes?: boolean } = {}): YamlFile {
  const source = options.includes ? rewriteIncludeKeys(text) : text;
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { schema: 'core', lineCounter, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const duplicate = first.code === 'DUPLICATE_KEY';
    const summary = first.message.split('\n')[0] ?? first.message;
    throw configError(duplicate ? `duplicate key in YAML (${summary})` : `YAML syntax error: ${summary}`, {
      code: duplicate ? 'YAML_DUPLICATE_KEY' : 'YAML_SYNTAX',
      file,
      ...(line === undefined ? {} : { line }),
      fix: duplicate
        ? 'Digdag rejects duplicate keys: keep one of them.'
        : 'Fix the YAML syntax at that line (indentation, quotes, a missing colon).',
    });
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const root = doc.contents;
  return {
    file,
    text,
    value,
    lineOf(path) {
      let node: unknown = root;
      let line: number | undefined = root?.range ? lineCounter.linePos(root.range[0]).line : undefined;
      for (const part of path) {
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part),
          );
          if (!pair) break;
          const key = pair.key as Node;
          if (key.range) line = lineCounter.linePos(key.range[0]).line;
          node = pair.value;
        } else if (isSeq(node) && typeof part === 'number') {
          const item = node.items[part] as Node | undefined;
          if (!item) break;
          if (item.range) line = lineCounter.linePos(item.range[0]).line;
          node = item;
        } else break;
      }
      return line;
    },
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
