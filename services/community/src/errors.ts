import { DomainError } from '@circles/platform';

export const communityErrors = {
  slugTaken: () => new DomainError('CONFLICT', 'That address is taken.', { field: 'slug' }),
  slugReserved: () => new DomainError('BAD_USER_INPUT', 'That address is reserved. Choose another.', { field: 'slug' }),
  notFound: () => new DomainError('NOT_FOUND', 'No such community.'),
  notAllowed: () => new DomainError('FORBIDDEN', 'You are not allowed to do that in this community.'),
  privateCommunity: () => new DomainError('FORBIDDEN', 'This community is private: ask a member for an invite.'),
  ownerCannotLeave: () => new DomainError('BAD_USER_INPUT', 'Transfer ownership before leaving your community.'),
  archived: () => new DomainError('BAD_USER_INPUT', 'This community is archived.'),
  notMember: () => new DomainError('NOT_FOUND', 'That person is not a member of this community.'),
  outranked: () => new DomainError('FORBIDDEN', 'You can only manage members ranked below you.'),
  useTransfer: () => new DomainError('BAD_USER_INPUT', 'Use "transfer ownership" to make someone the owner.'),
  ownerOnly: () => new DomainError('FORBIDDEN', 'Only the owner can do that.'),
  alreadyOwner: () => new DomainError('BAD_USER_INPUT', 'You already own this community.'),
  confirmName: () => new DomainError('BAD_USER_INPUT', "Type the circle's name to confirm.", { field: 'confirmName' }),
  confirmSlug: () => new DomainError('BAD_USER_INPUT', "Type the community's address to confirm.", { field: 'confirmSlug' }),
  inviteInvalid: () => new DomainError('INVALID_TOKEN', 'This invite link is invalid, expired or used up. Ask for a new one.'),
  needsRequest: () => new DomainError('FORBIDDEN', 'This community reviews new members: send a request to join.'),
  needsInvite: () => new DomainError('FORBIDDEN', 'This community is invite-only: ask a member for an invite link.'),
  alreadyMember: () => new DomainError('CONFLICT', 'You are already a member.'),
  requestPending: () => new DomainError('CONFLICT', 'Your request to join is already waiting for a decision.'),
  requestDecided: () => new DomainError('CONFLICT', 'That request was already decided.'),
  answersMissing: (n: number) => new DomainError('BAD_USER_INPUT', `Answer all ${n} question${n === 1 ? '' : 's'}.`, { field: 'answers' }),
  paidCircle: () => new DomainError('FORBIDDEN', 'This circle is paid: choose a tier to subscribe and join.'),
  paidAccessLeave: () => new DomainError('CONFLICT', 'Your subscription gives you this circle: cancel it in My subscriptions (you keep access until the end of the period).'),
  paidAccessRemove: () =>
    new DomainError('CONFLICT', 'This person pays for this circle. Refund or cancel their subscription on the community revenue page to end their access.'),
  circleClosed: () => new DomainError('FORBIDDEN', 'This circle is not open: a host or admin adds members.'),
  cannotGrant: () => new DomainError('FORBIDDEN', 'You cannot hand out a permission you do not have.'),
  roleNameTaken: () => new DomainError('CONFLICT', 'A role with that name exists.', { field: 'name' }),
  badDuration: (field: string) => new DomainError('BAD_USER_INPUT', 'That duration is out of range.', { field }),
  banned: (until: Date | null) =>
    new DomainError('FORBIDDEN', until ? `You are banned from this community until ${until.toISOString()}.` : 'You are banned from this community.', {
      bannedUntil: until?.toISOString() ?? null,
    }),
};
