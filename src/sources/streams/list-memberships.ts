import { lists } from './lists.js';
import { membershipStreams } from './memberships.js';

/** The profiles of each list, and the ids of its members now (see memberships.ts). */
export const { memberIds: listMemberIds, memberships: listMemberships } = membershipStreams(lists, 'list');
