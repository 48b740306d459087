import { DomainError } from '@circles/platform';

export const communityErrors = {
  slugTaken: () => new DomainError('CONFLICT', 'That address is taken.', { field: 'slug' }),
  slugReserved: () => new DomainError('BAD_USER_INPUT', 'That address is reserved. Choose another.', { field: 'slug' }),
  notFound: () => new DomainError('NOT_FOUND', 'No such community.'),
  notAllowed: () => new DomainError('FORBIDDEN', 'You are not allowed to do that in this community.'),
  privateCommunity: () => new DomainError('FORBIDDEN', 'This community is private: ask a member for an invite.'),
  ownerCannotLeave: () => new DomainError('BAD_USER_INPUT', 'Transfer ownership before leaving your community.'),
  archived: () => new DomainError('BAD_USER_INPUT', 'This community is archived.'),
};
