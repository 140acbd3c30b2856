import { configError } from '../util/errors.js';
import { SOURCE_CATALOG } from './catalog.js';
import { collectionSource, type Partition } from './collection-source.js';
import { relatedColumns } from './flatten.js';
import type { SourceDefinition, SourceParams } from './types.js';

const CAMPAIGN_CHANNELS = ['email', 'sms', 'mobile_push'] as const;

/** Archived objects only come back when asked for with equals(archived,true): query both. */
function archivedPartitions(prefix: string, extra: (archived: boolean) => string[] = () => []): Partition[] {
  return [false, true].map((archived) => ({
    label: `${prefix} archived=${archived}`,
    terms: [...extra(archived), `equals(archived,${archived})`],
  }));
}

const EVENT_PROFILE_COLUMNS = ['email', 'phone_number', 'external_id', 'first_name', 'last_name'] as const;

const events = collectionSource(SOURCE_CATALOG.events!, {
  // skip_related_objects: true (the templates' setting) means no include at all.
  extraQuery: (params: SourceParams): Record<string, string> =>
    params.skipRelatedObjects ? {} : { include: 'metric,profile' },
  extraColumns: (record, included) => ({
    ...relatedColumns(record, 'metric', included, ['name']),
    ...relatedColumns(record, 'profile', included, EVENT_PROFILE_COLUMNS),
  }),
});

const profiles = collectionSource(SOURCE_CATALOG.profiles!, {
  // subscriptions (consent) cost nothing extra; predictive_analytics only on request (it lowers the limit to 10/s).
  extraQuery: (params: SourceParams) => ({
    'additional-fields[profile]': [...new Set(['subscriptions', ...params.additionalFields])].join(','),
  }),
});

const campaigns = collectionSource(SOURCE_CATALOG.campaigns!, {
  partitions: () =>
    CAMPAIGN_CHANNELS.flatMap((channel) =>
      archivedPartitions(`campaigns ${channel}`, () => [`equals(messages.channel,'${channel}')`]),
    ),
});

const flows = collectionSource(SOURCE_CATALOG.flows!, { partitions: () => archivedPartitions('flows') });

const SOURCES: Readonly<Record<string, SourceDefinition>> = {
  events,
  profiles,
  campaigns,
  lists: collectionSource(SOURCE_CATALOG.lists!),
  templates: collectionSource(SOURCE_CATALOG.templates!),
  metrics: collectionSource(SOURCE_CATALOG.metrics!),
  segments: collectionSource(SOURCE_CATALOG.segments!),
  flows,
};

export function sourceNames(): string[] {
  return Object.keys(SOURCES);
}

export function getSource(dataSource: string): SourceDefinition {
  const source = Object.hasOwn(SOURCES, dataSource) ? SOURCES[dataSource] : undefined;
  if (!source) {
    throw configError(`Unknown data_source '${dataSource}'`, {
      code: 'UNKNOWN_DATA_SOURCE',
      key: 'in.data_source',
      fix: `use one of: ${sourceNames().join(', ')}`,
    });
  }
  return source;
}
