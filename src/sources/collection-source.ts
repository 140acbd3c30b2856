import { configError } from '../util/errors.js';
import type { Row } from '../warehouse/destination.js';
import { canSort, type SourceCatalogEntry, type WindowField } from './catalog.js';
import { flattenResource } from './flatten.js';
import type { RequestStream, Resource, SourceDefinition, SourceParams } from './types.js';
import { combineFilters, selectWindow, windowValueMs } from './window-filter.js';

/** A slice of a source's records that needs its own query (campaigns per channel, archived or not). */
export interface Partition {
  label: string;
  terms: string[];
}

export interface CollectionSourceOptions {
  partitions?: (params: SourceParams) => Partition[];
  /** Extra query parameters (include, additional-fields) for these params. */
  extraQuery?: (params: SourceParams) => Record<string, string>;
  /** Columns added from `included` resources (only called when the page had an `included` array). */
  extraColumns?: (record: Resource, included: ReadonlyMap<string, Resource>) => Row;
}

/** The window field the params name, checked against what the API can filter on. */
export function resolveWindowField(catalog: SourceCatalogEntry, params: SourceParams): WindowField | null {
  const name = params.windowField ?? catalog.implicitWindowField;
  if (name === null) return null;
  const field = Object.hasOwn(catalog.windowFields, name) ? catalog.windowFields[name] : undefined;
  if (!field) {
    const known = Object.keys(catalog.windowFields);
    throw configError(
      `Unknown incremental field '${name}' for data_source '${catalog.dataSource}'` +
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

/**
 * The common shape of every Klaviyo collection source: one query per partition, the window expressed
 * with the operators the API allows (cut exactly on our side), ascending sort on the window field where
 * the API can sort, the largest page size the revision allows.
 */
export function collectionSource(
  catalog: SourceCatalogEntry,
  options: CollectionSourceOptions = {},
): SourceDefinition {
  return {
    catalog,
    plan(params: SourceParams): RequestStream[] {
      const field = resolveWindowField(catalog, params);
      const selection = field ? selectWindow(field, params.window) : null;
      const pageSize = catalog.maxPageSize(params.revision);
      const ascending = field !== null && canSort(field, params.revision);
      const partitions = options.partitions?.(params) ?? [{ label: catalog.dataSource, terms: [] }];
      return partitions.map((partition) => {
        const query: Record<string, string> = {};
        const filter = combineFilters([...partition.terms, ...(selection?.terms ?? [])]);
        if (filter) query.filter = filter;
        if (ascending && field) query.sort = field.apiField;
        if (pageSize !== null) query['page[size]'] = String(pageSize);
        Object.assign(query, options.extraQuery?.(params));
        return {
          label: partition.label,
          path: catalog.endpoint,
          query,
          ascending,
          inWindow: selection?.inWindow ?? (() => true),
          pastEnd: selection?.pastEnd ?? (() => false),
          windowValueMs: field ? (record) => windowValueMs(record, field.apiField) : () => null,
        };
      });
    },
    flatten(record, included) {
      const row = flattenResource(record);
      if (options.extraColumns && included.size > 0)
        Object.assign(row, options.extraColumns(record, included));
      return row;
    },
  };
}
