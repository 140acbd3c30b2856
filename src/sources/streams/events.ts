import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';

/** Events, windowed on `datetime` without an incremental_field (the templates' events rule). */
export const events: StreamSpec = {
  name: 'events',
  endpoint: '/api/events',
  resourceType: 'event',
  windowFields: { datetime: windowField('datetime', RANGE_OPERATORS) },
  implicitWindowField: 'datetime',
  pageSize: { max: 1000, since: '2026-01-15' },
  // skip_related_objects: true (the templates' setting) means no include at all.
  include: ['metric', 'profile'],
  relatedColumns: {
    metric: ['name'],
    profile: ['email', 'phone_number', 'external_id', 'first_name', 'last_name'],
  },
};
