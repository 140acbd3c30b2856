/**
 * Trims Klaviyo's full OpenAPI document (github.com/klaviyo/openapi, branch per revision, file
 * openapi/stable.json; MIT) to what this project uses: the operations the simulator serves (one list,
 * ENDPOINT_OPERATIONS in src/klaviyo/endpoints/types.ts) and every `#/components/...` they reference,
 * directly or transitively. Object keys are sorted, so the same input always gives the same bytes.
 *
 *   node dist/scripts/trim-openapi.js <full stable.json> <out.json>
 *   npm run trim:openapi -- <full stable.json> docs/klaviyo-api/openapi-2026-07-15.trimmed.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ENDPOINT_NAMES, ENDPOINT_OPERATIONS } from '../src/klaviyo/endpoints/types.js';

// biome-ignore lint/suspicious/noExplicitAny: arbitrary JSON
type Json = any;

/** The document's path key for a served path: revisions differ on a trailing slash. */
export function specPathKey(paths: Record<string, unknown>, path: string): string {
  for (const key of [path, `${path}/`]) if (key in paths) return key;
  throw new Error(`the OpenAPI document has no path ${path} (nor ${path}/)`);
}

function decodePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function resolve(doc: Json, ref: string): Json {
  let node = doc;
  for (const token of ref.slice(2).split('/').map(decodePointer)) {
    node = node?.[token];
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  }
  return node;
}

/** Every `#/components/...` reference reachable from `roots`, following references. */
function referencedComponents(doc: Json, roots: Json[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          if (!value.startsWith('#/components/')) throw new Error(`unsupported $ref ${value}`);
          if (!seen.has(value)) {
            seen.add(value);
            stack.push(resolve(doc, value));
          }
        } else stack.push(value);
      }
    }
  }
  return seen;
}

function sortKeys(node: Json): Json {
  if (Array.isArray(node)) return node.map(sortKeys);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const key of Object.keys(node).sort()) out[key] = sortKeys(node[key]);
  return out;
}

export function trimOpenApi(full: Json): Json {
  const paths: Json = {};
  const tags = new Set<string>();
  const schemes = new Set<string>();
  for (const requirement of full.security ?? [])
    for (const name of Object.keys(requirement)) schemes.add(name);
  for (const name of ENDPOINT_NAMES) {
    const { path, method } = ENDPOINT_OPERATIONS[name];
    const key = specPathKey(full.paths, path);
    const item = full.paths[key];
    const operation = item[method];
    if (!operation) throw new Error(`the OpenAPI document has no ${method.toUpperCase()} ${key}`);
    paths[key] = { ...(item.parameters ? { parameters: item.parameters } : {}), [method]: operation };
    for (const tag of operation.tags ?? []) tags.add(tag);
    for (const requirement of operation.security ?? [])
      for (const scheme of Object.keys(requirement)) schemes.add(scheme);
  }

  const components: Json = {};
  const refs = [...referencedComponents(full, [paths])];
  for (const scheme of schemes) refs.push(`#/components/securitySchemes/${scheme}`);
  for (const ref of refs) {
    const [, , section, name, ...rest] = ref.split('/');
    if (!section || !name || rest.length > 0) throw new Error(`unsupported $ref ${ref}`);
    components[section] ??= {};
    components[section][decodePointer(name)] = resolve(full, ref);
  }

  const trimmed: Json = { openapi: full.openapi, info: full.info };
  if (full.servers) trimmed.servers = full.servers;
  if (full.security) trimmed.security = full.security;
  if (full.tags) trimmed.tags = full.tags.filter((tag: Json) => tags.has(tag.name));
  trimmed.paths = paths;
  trimmed.components = components;
  return sortKeys(trimmed);
}

/**
 * JSON with `node` expanded `levels` deep (one-space indent) and everything below on one line. Each
 * path and each component is one line: nearly as small as unindented JSON, and a regeneration's diff
 * still shows which schemas changed.
 */
function renderExpanded(node: Json, levels: number | Record<string, number>, indent: string): string {
  const depth = typeof levels === 'number' ? levels : 1;
  if (depth <= 0 || !node || typeof node !== 'object' || Array.isArray(node)) return JSON.stringify(node);
  const inner = `${indent} `;
  const lines = Object.entries(node).map(([key, value]) => {
    const below = typeof levels === 'number' ? levels - 1 : (levels[key] ?? 0);
    return `${inner}${JSON.stringify(key)}:${renderExpanded(value, below, inner)}`;
  });
  return lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n${indent}}`;
}

/** The trimmed document as written to disk; see renderExpanded. */
export function renderTrimmedOpenApi(full: Json): string {
  return `${renderExpanded(trimOpenApi(full), { components: 2, paths: 1 }, '')}\n`;
}

function main(argv: string[]): number {
  const [input, output] = argv;
  if (!input || !output) {
    process.stderr.write('usage: node dist/scripts/trim-openapi.js <full stable.json> <out.json>\n');
    return 2;
  }
  const text = renderTrimmedOpenApi(JSON.parse(readFileSync(input, 'utf8')));
  writeFileSync(output, text);
  process.stdout.write(`wrote ${output} (${text.length} bytes)\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
