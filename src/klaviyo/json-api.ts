/**
 * JSON:API documents as Klaviyo returns them, validated minimally: enough to be sure
 * we got a JSON:API document and not, say, an HTML page or a proxy's JSON, without copying every
 * record (pages hold up to 1000 events).
 */
import { z } from 'zod';

export interface ResourceIdentifier {
  type: string;
  id: string;
}

export interface Relationship {
  data?: ResourceIdentifier | ResourceIdentifier[] | null;
  /** Left out by the client's parse (`parseJsonApiBytes`): URLs nothing here follows. */
  links?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, Relationship>;
  /** Left out by the client's parse, as a relationship's. */
  links?: Record<string, unknown>;
}

export interface DocumentLinks {
  self?: string | null;
  next?: string | null;
  prev?: string | null;
  [key: string]: unknown;
}

export interface JsonApiDocument {
  data: Resource | Resource[] | null;
  included?: Resource[];
  links?: DocumentLinks;
  meta?: Record<string, unknown>;
}

/** One error object of a Klaviyo error envelope (`status` is an integer in practice). */
export interface JsonApiError {
  id?: string;
  status?: number | string;
  code?: string;
  title?: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

const documentSchema = z.looseObject({
  data: z.union([z.array(z.unknown()), z.looseObject({}), z.null()]),
  included: z.array(z.unknown()).optional(),
  links: z.looseObject({ next: z.string().nullish(), self: z.string().nullish() }).nullish(),
  meta: z.looseObject({}).nullish(),
});

const errorEnvelopeSchema = z.looseObject({
  errors: z.array(
    z.looseObject({
      id: z.string().optional(),
      status: z.union([z.number(), z.string()]).optional(),
      code: z.string().optional(),
      title: z.string().optional(),
      detail: z.string().optional(),
      source: z.looseObject({ pointer: z.string().optional(), parameter: z.string().optional() }).nullish(),
    }),
  ),
});

/** Why a body is not a JSON:API document, or null when it is one. */
export type ShapeProblem = string;

function resourceProblem(value: unknown, where: string): ShapeProblem | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where} is not an object`;
  const r = value as Record<string, unknown>;
  if (typeof r.type !== 'string') return `${where}.type is not a string`;
  if (typeof r.id !== 'string') return `${where}.id is not a string`;
  if (r.attributes === undefined || r.attributes === null) r.attributes = {};
  else if (typeof r.attributes !== 'object' || Array.isArray(r.attributes))
    return `${where}.attributes is not an object`;
  if (r.relationships !== undefined && (typeof r.relationships !== 'object' || r.relationships === null))
    return `${where}.relationships is not an object`;
  return null;
}

/**
 * Checks the document shape: top-level `data` (array, object or null), optional `included`,
 * `links` and `meta`; each resource has string `type` and `id` and object `attributes` (filled
 * with `{}` when absent, e.g. relationship documents). Returns the document or a problem text.
 */
export function parseJsonApiDocument(
  body: unknown,
): { ok: true; doc: JsonApiDocument } | { ok: false; problem: ShapeProblem } {
  const parsed = documentSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.join('.') : 'document';
    const hint =
      typeof body === 'object' && body !== null && 'errors' in body ? ' (it is an error document)' : '';
    return { ok: false, problem: `${path}: ${issue?.message ?? 'invalid'}${hint}` };
  }
  // Work on the original object: zod's output is a copy, and pages can be large.
  const doc = body as JsonApiDocument;
  const data = doc.data as unknown;
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      const problem = resourceProblem(data[i], `data[${i}]`);
      if (problem) return { ok: false, problem };
    }
  } else if (data !== null) {
    const problem = resourceProblem(data, 'data');
    if (problem) return { ok: false, problem };
  }
  const included = doc.included as unknown[] | undefined;
  if (included) {
    for (let i = 0; i < included.length; i++) {
      const problem = resourceProblem(included[i], `included[${i}]`);
      if (problem) return { ok: false, problem };
    }
  }
  return { ok: true, doc };
}

/** The first error of a Klaviyo error envelope, when the body is one. */
export function firstApiError(body: unknown): JsonApiError | null {
  const parsed = errorEnvelopeSchema.safeParse(body);
  if (!parsed.success) return null;
  const first = parsed.data.errors[0];
  if (!first) return null;
  const { source, ...rest } = first;
  return source ? { ...rest, source } : rest;
}
