import { redirect } from 'next/navigation';
import { cache } from 'react';
import { ClientError, MailOutboxDocument, type MailOutboxQuery } from '@circles/client';
import { serverClient } from '@/lib/server-api';

export type OutboxResult = { kind: 'ok'; outbox: MailOutboxQuery['mailOutbox'] } | { kind: 'forbidden' };

/**
 * The outbox as the current person may see it; anonymous people are sent to log in first. Memoised per request,
 * so a page and its metadata share one call.
 */
export const loadOutbox = cache(async (returnTo: string, limit = 50): Promise<OutboxResult> => {
  try {
    const { mailOutbox } = await (await serverClient()).request(MailOutboxDocument, { limit });
    return { kind: 'ok', outbox: mailOutbox };
  } catch (err) {
    if (err instanceof ClientError && err.code === 'UNAUTHENTICATED') redirect(`/login?next=${encodeURIComponent(returnTo)}`);
    if (err instanceof ClientError && err.code === 'FORBIDDEN') return { kind: 'forbidden' };
    throw err;
  }
});
