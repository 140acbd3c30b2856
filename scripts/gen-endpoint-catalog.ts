/**
 * Generates src/klaviyo/endpoints/catalog.generated.ts, the simulator's endpoint catalog, from two
 * documents in docs/klaviyo-api/ (see its README.md):
 *
 * - endpoints-by-revision.json: per served path and API revision, the facts extracted from that
 *   revision's OpenAPI document (filters, sort, page size, includes, fieldsets, rate limits, path).
 * - openapi-2026-07-15.trimmed.json: each operation's scopes (`x-klaviyo-scopes`) and its
 *   `fields[type]` parameter enums, which the simulator uses for every revision.
 *
 * Revision rule: the facts of each revision are mapped to a RevisionEntry (below) and an entry is kept
 * only when it differs from the previous revision's, so there is one entry per revision where an
 * endpoint's contract changed; a revision without an entry uses the newest entry before it. Facts the
 * catalog does not carry (the response content type) do not make an entry, nor does anything the
 * mapping normalises away (a `null` include list is `[]`, an all-`null` page size is no page size).
 *
 *   npm run gen:catalog        (builds, then: node dist/scripts/gen-endpoint-catalog.js)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ENDPOINT_NAMES,
  ENDPOINT_OPERATIONS,
  type EndpointName,
  type PageSizeSpec,
  type RevisionEntry,
} from '../src/klaviyo/endpoints/types.js';
import { specPathKey } from './trim-openapi.js';

/** One revision's facts for one endpoint, as endpoints-by-revision.json holds them. */
export interface RevisionFacts {
  path_in_spec: string;
  filter_allowed: Record<string, string[]> | null;
  filter_required: boolean | null;
  sort_enum: string[] | null;
  page_size: { default: number | null; minimum: number | null; maximum: number | null } | null;
  include: string[] | null;
  additional_fields: Record<string, string[]> | null;
  sparse_fieldsets: string[] | null;
  /** `"350/s"`, `"3500/m"` */
  ratelimit: { burst: string; steady: string };
  response_content_type: string | null;
}

export interface EndpointsByRevision {
  source: string;
  /** path (no trailing slash) -> revision (`YYYY-MM-DD`) -> facts */
  endpoints: Record<string, Record<string, RevisionFacts>>;
}

export interface CatalogInputs {
  byRevision: EndpointsByRevision;
  // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document
  openapi: any;
}

/** Input and output files, relative to the repository root. */
export const CATALOG_FILES = {
  byRevision: 'docs/klaviyo-api/endpoints-by-revision.json',
  openapi: 'docs/klaviyo-api/openapi-2026-07-15.trimmed.json',
  output: 'src/klaviyo/endpoints/catalog.generated.ts',
} as const;

function rate(value: string, unit: 's' | 'm', where: string): number {
  const m = /^(\d+)\/([sm])$/.exec(value);
  if (!m || m[2] !== unit) throw new Error(`${where}: rate limit ${JSON.stringify(value)} is not N/${unit}`);
  return Number(m[1]);
}

function pageSize(facts: RevisionFacts, where: string): PageSizeSpec | null {
  const size = facts.page_size;
  if (!size) return null;
  const values = [size.default, size.minimum, size.maximum];
  if (values.every((v) => v === null)) return null;
  if (size.default === null || size.minimum === null || size.maximum === null)
    throw new Error(`${where}: partial page_size ${JSON.stringify(size)}`);
  return { default: size.default, minimum: size.minimum, maximum: size.maximum };
}

/** One revision's facts as the catalog's entry (key order fixed: it is also the comparison key). */
export function toRevisionEntry(since: string, facts: RevisionFacts, where: string): RevisionEntry {
  return {
    since,
    filterAllowed: facts.filter_allowed ?? {},
    filterRequired: facts.filter_required ?? false,
    sort: facts.sort_enum,
    pageSize: pageSize(facts, where),
    include: facts.include ?? [],
    additionalFields: facts.additional_fields ?? {},
    fieldsets: facts.sparse_fieldsets ?? [],
    rateLimit: {
      burst: rate(facts.ratelimit.burst, 's', where),
      steady: rate(facts.ratelimit.steady, 'm', where),
    },
    trailingSlash: facts.path_in_spec.endsWith('/'),
  };
}

/** The entries where the contract changed (see the revision rule at the top). */
export function changedRevisions(path: string, byRevision: Record<string, RevisionFacts>): RevisionEntry[] {
  const entries: RevisionEntry[] = [];
  let previous: string | null = null;
  for (const since of Object.keys(byRevision).sort()) {
    const entry = toRevisionEntry(since, byRevision[since]!, `${path} ${since}`);
    const { since: _, ...contract } = entry;
    const key = JSON.stringify(contract);
    if (key !== previous) entries.push(entry);
    previous = key;
  }
  return entries;
}

interface OperationFacts {
  scopes: string[];
  fieldEnums: Record<string, string[]>;
}

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document
function operationFacts(openapi: any, name: EndpointName): OperationFacts {
  const { path, method } = ENDPOINT_OPERATIONS[name];
  const key = specPathKey(openapi.paths, path);
  const op = openapi.paths[key][method];
  if (!op) throw new Error(`the OpenAPI document has no ${method.toUpperCase()} ${key}`);
  const scopes = op['x-klaviyo-scopes'];
  if (!Array.isArray(scopes)) throw new Error(`${key}: no x-klaviyo-scopes`);
  const fieldEnums: Record<string, string[]> = {};
  for (const param of op.parameters ?? []) {
    const m = /^fields\[(.+)\]$/.exec(param.name ?? '');
    if (!m || param.in !== 'query') continue;
    const values = param.schema?.items?.enum;
    if (!Array.isArray(values)) throw new Error(`${key}: ${param.name} has no items enum`);
    fieldEnums[m[1]!] = values;
  }
  return { scopes, fieldEnums };
}

const json = (value: unknown): string => JSON.stringify(value);

/** The catalog module's text, exactly as committed. */
export function renderEndpointCatalog(inputs: CatalogInputs): string {
  const revision = inputs.openapi.info?.version;
  const lines = [
    `// Generated by scripts/gen-endpoint-catalog.ts from ${CATALOG_FILES.byRevision} and`,
    `// ${CATALOG_FILES.openapi} (revision ${revision}) — do not edit;`,
    "// run `npm run gen:catalog`. One entry per revision where an endpoint's contract changed.",
    "import type { EndpointCatalog } from './types.js';",
    '',
    'export const CATALOG: EndpointCatalog = {',
  ];
  for (const name of ENDPOINT_NAMES) {
    const { path } = ENDPOINT_OPERATIONS[name];
    const facts = inputs.byRevision.endpoints[path];
    if (!facts) throw new Error(`${CATALOG_FILES.byRevision} has no ${path}`);
    const { scopes, fieldEnums } = operationFacts(inputs.openapi, name);
    lines.push(`  ${json(name)}: {`);
    lines.push(`    "path": ${json(path)},`);
    lines.push(`    "scopes": ${json(scopes)},`);
    lines.push('    "revisions": [');
    for (const entry of changedRevisions(path, facts)) lines.push(`      ${json(entry)},`);
    lines.push('    ],');
    lines.push('    "fieldEnums": {');
    for (const [type, values] of Object.entries(fieldEnums))
      lines.push(`      ${json(type)}: ${json(values)},`);
    lines.push('    },');
    lines.push('  },');
  }
  lines.push('};', '');
  return lines.join('\n');
}

/** The repository root: the nearest folder above this file holding package.json. */
export function repoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export function readCatalogInputs(root: string): CatalogInputs {
  const read = (rel: string) => JSON.parse(readFileSync(path.join(root, rel), 'utf8'));
  return { byRevision: read(CATALOG_FILES.byRevision), openapi: read(CATALOG_FILES.openapi) };
}

function main(): number {
  const root = repoRoot();
  const text = renderEndpointCatalog(readCatalogInputs(root));
  writeFileSync(path.join(root, CATALOG_FILES.output), text);
  process.stdout.write(`wrote ${CATALOG_FILES.output} (${text.split('\n').length - 1} lines)\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main();
}
