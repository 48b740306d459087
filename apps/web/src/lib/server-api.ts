/**
 * Calling the gateway from server components. Read at request time (never at build time): the gateway address
 * and the caller's cookie. The session cookie is forwarded untouched; this server never reads the token.
 */
import { cache } from 'react';
import { headers } from 'next/headers';
import { ClientError, createClient, MyAccountDocument, type Client, type MyAccountQuery } from '@circles/client';

const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:4000';

/** A client acting as the person making the current request. */
export async function serverClient(): Promise<Client> {
  const incoming = await headers();
  const forwarded: Record<string, string> = {};
  for (const name of ['cookie', 'x-forwarded-for', 'user-agent', 'accept-language'] as const) {
    const value = incoming.get(name);
    if (value) forwarded[name] = value;
  }
  const base = (process.env.GATEWAY_URL || DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  // No caching: every answer depends on who is asking.
  const fetchNoStore: typeof fetch = (input, init) => fetch(input, { ...init, cache: 'no-store' });
  return createClient({ url: `${base}/graphql`, headers: forwarded, fetch: fetchNoStore });
}

export type Viewer = NonNullable<MyAccountQuery['myAccount']>;

/**
 * The signed-in account, or null. Memoised per request so the layout's header and the page share one call;
 * anonymous visitors (no session cookie) cost no call at all.
 * An ended session reads as anonymous rather than as an error.
 */
export const getViewer = cache(async (): Promise<Viewer | null> => {
  // Without a session cookie the answer is known: skip the gateway call (most anonymous page views).
  if (!/(?:^|;\s*)circles_session=/.test((await headers()).get('cookie') ?? '')) return null;
  try {
    const client = await serverClient();
    return (await client.request(MyAccountDocument)).myAccount;
  } catch (err) {
    if (err instanceof ClientError && err.code === 'UNAUTHENTICATED') return null;
    throw err;
  }
});

/** Only same-site paths are followed after logging in, so `?next=` cannot send people elsewhere. */
export function safeNextPath(next: string | string[] | undefined): string | null {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  return value;
}
