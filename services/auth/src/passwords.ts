import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { authErrors } from './errors.ts';

/** OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane. */
const ARGON2 = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, ARGON2);

/** Verifies against a stored hash; with no account, burns the same time against a dummy so timing reveals nothing. */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
const dummyHash = hash('circles-dummy-password-for-timing', ARGON2);

/** ~49k most common passwords from public breach corpora (zxcvbn-ts' list), lowercased. */
const common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
if (common.size < 10_000) throw new Error('common-password list failed to load');

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** NIST 800-63B style: length, not a known breached/common password, not the account's own identifiers. */
export function checkPasswordPolicy(password: string, context: { email?: string; handle?: string } = {}): void {
  if (password.length < PASSWORD_MIN) throw authErrors.weakPassword(`Use at least ${PASSWORD_MIN} characters.`);
  if (password.length > PASSWORD_MAX) throw authErrors.weakPassword(`Use at most ${PASSWORD_MAX} characters.`);
  const lower = password.toLowerCase();
  if (common.has(lower)) throw authErrors.weakPassword('That password is too common: it appears in lists of breached passwords. Choose another.');
  if (new Set(lower).size < 3) throw authErrors.weakPassword('That password is too easy to guess. Choose another.');
  const own = [context.email?.toLowerCase(), context.email?.split('@')[0]?.toLowerCase(), context.handle?.toLowerCase()].filter((x): x is string => !!x && x.length >= 3);
  if (own.some((id) => lower === id)) throw authErrors.weakPassword('Your password must not be your email address or handle.');
}
