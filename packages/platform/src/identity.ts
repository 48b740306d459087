import { createHmac } from 'node:crypto';
import { safeEqual } from './ids.ts';

/**
 * Who is calling, as resolved by the gateway. Subgraphs never see cookies or bearer tokens: they receive this,
 * signed with the shared gateway secret, and reject anything unsigned, tampered with or stale.
 */
export interface Identity {
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
  /** How the caller proved the session: a browser cookie or an Authorization bearer token. */
  credential: 'cookie' | 'bearer' | null;
}

export const IDENTITY_HEADER = 'x-circles-identity';
const MAX_AGE_MS = 60_000;

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

export function signIdentity(secret: string, identity: Identity, now = Date.now()): string {
  const body = Buffer.from(JSON.stringify({ ...identity, iat: now })).toString('base64url');
  return `v1.${body}.${mac(secret, body)}`;
}

export function verifyIdentity(secret: string, token: string | null | undefined, now = Date.now()): Identity {
  if (!token) throw new IdentityError('missing gateway identity');
  const [version, body, sig] = token.split('.');
  if (version !== 'v1' || !body || !sig) throw new IdentityError('malformed gateway identity');
  if (!safeEqual(sig, mac(secret, body))) throw new IdentityError('bad gateway identity signature');
  const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Identity & { iat: number };
  if (typeof parsed.iat !== 'number' || Math.abs(now - parsed.iat) > MAX_AGE_MS) throw new IdentityError('stale gateway identity');
  const { iat: _iat, ...identity } = parsed;
  return identity;
}

const mac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64url');
