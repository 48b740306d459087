import { DomainError } from '@circles/platform';

export const postErrors = {
  spaceNotFound: () => new DomainError('NOT_FOUND', 'No such space.'),
  communityNotFound: () => new DomainError('NOT_FOUND', 'No such community.'),
  postNotFound: () => new DomainError('NOT_FOUND', 'No such post.'),
  commentNotFound: () => new DomainError('NOT_FOUND', 'No such comment.'),
  cannotPost: () => new DomainError('FORBIDDEN', 'You cannot post here.'),
  cannotComment: () => new DomainError('FORBIDDEN', 'You cannot comment or react here.'),
  cannotRead: () => new DomainError('FORBIDDEN', 'Join this circle to read and take part.'),
  notAuthor: () => new DomainError('FORBIDDEN', 'Only the author can do that.'),
  notModerator: () => new DomainError('FORBIDDEN', 'Only moderators can do that.'),
  locked: () => new DomainError('FORBIDDEN', 'Comments are locked on this post.'),
  gone: () => new DomainError('BAD_USER_INPUT', 'This post was deleted or removed.'),
  commentGone: () => new DomainError('BAD_USER_INPUT', 'That comment was deleted or removed.'),
  noPoll: () => new DomainError('BAD_USER_INPUT', 'This post has no poll.', { field: 'postId' }),
  pollClosed: () => new DomainError('BAD_USER_INPUT', 'This poll is closed.'),
  badOptions: (message: string) => new DomainError('BAD_USER_INPUT', message, { field: 'optionIds' }),
  badEmoji: () => new DomainError('BAD_USER_INPUT', 'Use a single emoji.', { field: 'emoji' }),
  tooManyEmoji: (max: number) => new DomainError('BAD_USER_INPUT', `At most ${max} different reactions per item.`, { field: 'emoji' }),
  badCursor: () => new DomainError('BAD_USER_INPUT', 'That page cursor is not valid: start from the first page.', { field: 'after' }),
  rateLimited: (seconds: number) =>
    new DomainError('RATE_LIMITED', `You are posting too fast. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds }),
};
