import { configError } from '../util/errors.js';
import { collectionSource } from './collection-source.js';
import type { StreamSpec } from './stream.js';
import { STREAMS } from './streams/index.js';
import type { SourceDefinition } from './types.js';

const SOURCES: ReadonlyMap<string, SourceDefinition> = new Map(
  STREAMS.map((spec) => [spec.name, collectionSource(spec)]),
);

export function sourceNames(): string[] {
  return [...SOURCES.keys()];
}

/** The stream a `data_source` names, or undefined. */
export function findStream(dataSource: string): StreamSpec | undefined {
  return SOURCES.get(dataSource)?.spec;
}

export function getSource(dataSource: string): SourceDefinition {
  const source = SOURCES.get(dataSource);
  if (!source) {
    throw configError(`Unknown data_source '${dataSource}'`, {
      code: 'UNKNOWN_DATA_SOURCE',
      key: 'in.data_source',
      fix: `use one of: ${sourceNames().join(', ')}`,
    });
  }
  return source;
}
