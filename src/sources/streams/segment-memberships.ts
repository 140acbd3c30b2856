import { membershipStreams } from './memberships.js';
import { segments } from './segments.js';

/** The profiles of each segment, and the ids of its members now (see memberships.ts). */
export const { memberIds: segmentMemberIds, memberships: segmentMemberships } = membershipStreams(
  segments,
  'segment',
);
