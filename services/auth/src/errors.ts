import { DomainError } from '@circles/platform';

/** Auth-specific failures, each with a stable code clients can branch on. */
export const authErrors = {
  invalidCredentials: () => new DomainError('INVALID_CREDENTIALS', 'That email and password do not match an account.'),
  rateLimited: (retryAfterMs: number) =>
    new DomainError('RATE_LIMITED', `Too many attempts. Try again in ${humanDuration(retryAfterMs)}.`, { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) }),
  weakPassword: (reason: string) => new DomainError('WEAK_PASSWORD', reason, { field: 'password' }),
  emailTaken: () => new DomainError('CONFLICT', 'An account with that email already exists.', { field: 'email' }),
  handleTaken: () => new DomainError('CONFLICT', 'That handle is taken.', { field: 'handle' }),
  invalidToken: () => new DomainError('INVALID_TOKEN', 'This link is invalid or has expired. Ask for a new one.'),
  adminOnly: () => new DomainError('FORBIDDEN', 'Only the instance admin can do that.'),
  alreadyVerified: () => new DomainError('BAD_USER_INPUT', 'Your email address is already verified.'),
};

function humanDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.ceil(m / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}
