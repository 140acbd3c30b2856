import type { Revision, ServedCollectionName } from '../../klaviyo/endpoints/index.js';

export type FieldValue = number | string | boolean | null;
export type FieldKind = 'datetime' | 'number' | 'string' | 'boolean' | 'relation';

/** A filterable / sortable field: its literal kind and a getter by record index (datetimes as epoch ms). */
export interface FieldDef {
  kind: FieldKind;
  get(i: number): FieldValue;
}

export interface JsonResource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, unknown>;
  links: { self: string };
}

export interface BuildContext {
  baseUrl: string;
  revision: Revision;
  /** `additional-fields[type]` values asked for. */
  additional: Set<string>;
  /** Includes asked for (relationship names). */
  include: Set<string>;
}

/** One resource type the simulator holds: records addressed by a dense index. */
export interface Collection {
  readonly name: ServedCollectionName;
  readonly type: string;
  size(): number;
  /** Bumped on every change, so cached sort orders are rebuilt. */
  version(): number;
  id(i: number): string;
  field(name: string): FieldDef | undefined;
  /** Fields whose order equals index order (events: datetime, timestamp). */
  readonly naturalFields: ReadonlySet<string>;
  resource(i: number, ctx: BuildContext): JsonResource;
  /**
   * Records the API counts but does not list yet (events held back: Klaviyo's late listing): a test
   * that is false for them, or null while every record is listed.
   */
  listedFilter?(): ((i: number) => boolean) | null;
  /** Related resources for `include` (type+id → resource). */
  included?(i: number, include: Set<string>, ctx: BuildContext): JsonResource[];
}

export function relLinks(
  baseUrl: string,
  path: string,
  id: string,
  rel: string,
): { self: string; related: string } {
  return {
    self: `${baseUrl}/api/${path}/${id}/relationships/${rel}/`,
    related: `${baseUrl}/api/${path}/${id}/${rel}/`,
  };
}

export function selfLink(baseUrl: string, path: string, id: string): { self: string } {
  return { self: `${baseUrl}/api/${path}/${id}/` };
}
