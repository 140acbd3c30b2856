import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';

/** Events, windowed on `datetime` without an incremental_field (the templates' events rule). */
export const events: StreamSpec = {
  name: 'events',
  endpoint: '/api/events',
  resourceType: 'event',
  windowFields: { datetime: windowField('datetime', RANGE_OPERATORS) },
  implicitWindowField: 'datetime',
  pageSize: { max: 1000, since: '2026-01-15' },
  // skip_related_objects: true (the templates' setting) means no include at all. Before 2023-07-15 the
  // names were plural (metrics, profiles); related columns are read from that revision on.
  include: { names: ['metric', 'profile'], since: '2023-07-15' },
  relatedColumns: {
    metric: ['name'],
    profile: ['email', 'phone_number', 'external_id', 'first_name', 'last_name'],
  },
};
