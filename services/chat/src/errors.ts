import { DomainError } from '@circles/platform';

export const chatErrors = {
  spaceNotFound: () => new DomainError('NOT_FOUND', 'No such space.'),
  channelNotFound: () => new DomainError('NOT_FOUND', 'No such channel.'),
  messageNotFound: () => new DomainError('NOT_FOUND', 'No such message.'),
  cannotRead: () => new DomainError('FORBIDDEN', 'Join this circle to read its chat.'),
  cannotSend: () => new DomainError('FORBIDDEN', 'You cannot send messages here.'),
  notAdmin: () => new DomainError('FORBIDDEN', 'Only admins manage channels.'),
  notAuthor: () => new DomainError('FORBIDDEN', 'Only the author can do that.'),
  notAllowed: () => new DomainError('FORBIDDEN', 'Only the author or a moderator can do that.'),
  nameTaken: () => new DomainError('CONFLICT', 'A channel with that name exists here.', { field: 'name' }),
  confirmName: () => new DomainError('BAD_USER_INPUT', "Type the channel's name to confirm.", { field: 'confirmName' }),
  deleted: () => new DomainError('BAD_USER_INPUT', 'That message was deleted.'),
  badOrder: () => new DomainError('BAD_USER_INPUT', "List every channel of this space once, in the new order.", { field: 'channelIds' }),
  bothCursors: () => new DomainError('BAD_USER_INPUT', 'Ask for messages before or after a position, not both.', { field: 'after' }),
  slowMode: (seconds: number) =>
    new DomainError('RATE_LIMITED', `Slow mode is on: wait ${seconds} seconds before your next message.`, { retryAfterSeconds: seconds }),
  rateLimited: (seconds: number) =>
    new DomainError('RATE_LIMITED', `You are sending messages too fast. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds }),
};
