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
  bothCursors: () => new DomainError('BAD_USER_INPUT', 'Ask for messages before, after or around one position, not several.', { field: 'after' }),
  slowMode: (seconds: number) =>
    new DomainError('RATE_LIMITED', `Slow mode is on: wait ${seconds} seconds before your next message.`, { retryAfterSeconds: seconds }),
  rateLimited: (seconds: number) =>
    new DomainError('RATE_LIMITED', `You are sending messages too fast. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds, limit: 'member' }),
  channelBusy: (seconds: number) =>
    new DomainError('RATE_LIMITED', `This channel is getting too many messages at once. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds, limit: 'channel' }),
  emptyMessage: () => new DomainError('BAD_USER_INPUT', 'Write a message or attach a file first.', { field: 'body' }),
  notSpaceChannel: () => new DomainError('BAD_USER_INPUT', 'Direct conversations are not managed like space channels.'),
  noSharedCommunity: (userIds: string[]) =>
    new DomainError('FORBIDDEN', 'You can only message people who are in a community with you.', { field: 'userIds', userIds }),
  noOneElse: () => new DomainError('BAD_USER_INPUT', 'Choose at least one other person.', { field: 'userIds' }),
  groupTooBig: (max: number) => new DomainError('BAD_USER_INPUT', `A group has at most ${max} people, you included.`, { field: 'userIds' }),
  dmHasNoName: () => new DomainError('BAD_USER_INPUT', 'Only groups have names.', { field: 'name' }),
  notGroup: () => new DomainError('BAD_USER_INPUT', 'Only group conversations take new people or can be left: start a group instead.'),
  badThread: (message: string) => new DomainError('BAD_USER_INPUT', message, { field: 'threadId' }),
  notThreadRoot: () => new DomainError('BAD_USER_INPUT', 'Only a message in the main timeline can have a thread.', { field: 'messageId' }),
  badEmoji: () => new DomainError('BAD_USER_INPUT', 'React with one emoji.', { field: 'emoji' }),
  tooManyEmoji: (max: number) => new DomainError('BAD_USER_INPUT', `A message can carry at most ${max} different reactions.`, { field: 'emoji' }),
  notModerator: () => new DomainError('FORBIDDEN', 'Only moderators can do that here.'),
  tooManyPins: (max: number) => new DomainError('BAD_USER_INPUT', `A channel keeps at most ${max} pinned messages: unpin one first.`),
  badCursor: () => new DomainError('BAD_USER_INPUT', 'That page cursor is not valid.', { field: 'after' }),
};
