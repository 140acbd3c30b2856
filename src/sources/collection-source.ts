import { and, equals } from '../klaviyo/filter.js';
import { revisionAtLeast } from '../klaviyo/revisions.js';
import { configError } from '../util/errors.js';
import { flattenResource, relatedColumns } from './flatten.js';
import { canSort, maxPageSize, type StreamSpec, valuesAt, type WindowField } from './stream.js';
import type { RequestStream, SourceDefinition, SourceParams } from './types.js';
import { selectWindow, windowValueMs } from './window-filter.js';

/** The window field the params name, checked against what the API can filter on. */
function resolveWindowField(spec: StreamSpec, params: SourceParams): WindowField | null {
  const name = params.windowField ?? spec.implicitWindowField ?? null;
  if (name === null) return null;
  const field = Object.hasOwn(spec.windowFields, name) ? spec.windowFields[name] : undefined;
  if (!field) {
    const known = Object.keys(spec.windowFields);
    throw configError(
      `Unknown incremental field '${name}' for data_source '${spec.name}'` +
        (known.length
          ? ` (the API filters on: ${known.join(', ')})`
          : ' (this data source has no incremental field)'),
      {
        code: 'UNKNOWN_INCREMENTAL_FIELD',
        key: 'incremental_field_connector',
        fix: known.length
          ? `set incremental_field_connector to one of ${known.join(', ')} (the API name, e.g. campaigns 'updated', not 'updated_at')`
          : 'remove the incremental parameters: this source is a full load',
      },
    );
  }
  return field;
}

/** `include` and `additional-fields[...]` of a stream for these params. */
function relatedQuery(spec: StreamSpec, params: SourceParams): Record<string, string> {
  const query: Record<string, string> = {};
  const include = valuesAt(spec.include, params.revision);
  if (include.length > 0 && !params.skipRelatedObjects) query.include = include.join(',');
  if (spec.additionalFields) {
    const fields = [
      ...new Set([...valuesAt(spec.additionalFields, params.revision), ...params.additionalFields]),
    ];
    if (fields.length > 0) query[`additional-fields[${spec.resourceType}]`] = fields.join(',');
  }
  return query;
}

/**
 * Every stream is a Klaviyo collection read the same way: one query per partition, the window
 * expressed with the operators the API allows (cut exactly on our side), ascending sort on the window
 * field where the API can sort, the largest page size the revision allows.
 */
export function collectionSource(spec: StreamSpec): SourceDefinition {
  const related = Object.entries(spec.relatedColumns ?? {});
  return {
    spec,
    plan(params: SourceParams, parentId?: string): RequestStream[] {
      if (spec.since !== undefined && !revisionAtLeast(params.revision, spec.since)) {
        throw configError(
          `data_source '${spec.name}' needs API revision ${spec.since} or newer; the project asks for ${params.revision}`,
          {
            code: 'STREAM_NEEDS_NEWER_REVISION',
            key: 'revision',
            fix: `set the revision to ${spec.since} or newer`,
          },
        );
      }
      const path =
        parentId === undefined ? spec.endpoint : spec.endpoint.replace('{id}', encodeURIComponent(parentId));
      // A top-level endpoint names the parent in its filter (`equals(coupon.id,'…')`).
      const filterField = spec.parent?.filterField;
      const parentTerms = parentId !== undefined && filterField ? [equals(filterField, parentId)] : [];
      const field = resolveWindowField(spec, params);
      const selection = field ? selectWindow(field, params.window) : null;
      const pageSize = maxPageSize(spec, params.revision);
      const ascending = field !== null && canSort(field, params.revision);
      const partitions = spec.partitions?.(params.revision) ?? [{ label: spec.name, terms: [] }];
      const sliceable = ascending && partitions.length === 1 && selection?.bounded === true;
      return partitions.map((partition) => {
        const query: Record<string, string> = {};
        const terms = [...parentTerms, ...partition.terms, ...(selection?.terms ?? [])];
        if (terms.length > 0) query.filter = and(...terms);
        if (ascending && field) query.sort = field.apiField;
        if (pageSize !== null) query['page[size]'] = String(pageSize);
        Object.assign(query, relatedQuery(spec, params));
        return {
          label: parentId === undefined ? partition.label : `${partition.label} ${parentId}`,
          path,
          query,
          ascending,
          sliceable,
          inWindow: selection?.inWindow ?? (() => true),
          pastEnd: selection?.pastEnd ?? (() => false),
          windowValueMs: field ? (record) => windowValueMs(record, field.apiField) : () => null,
        };
      });
    },
    flatten(record, included, parentId) {
      const row = flattenResource(record);
      const parent = spec.parent;
      if (parent && parentId !== undefined) {
        row[parent.column] = parentId;
        if (parent.ownIdColumn) {
          row[parent.ownIdColumn] = record.id;
          row.id = `${parentId}:${record.id}`;
        }
      }
      if (included.size > 0) {
        for (const [relationship, attributes] of related)
          Object.assign(row, relatedColumns(record, relationship, included, attributes));
      }
      return row;
    },
  };
}
