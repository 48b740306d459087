'use client';
/** The browser's client: same origin, so the HttpOnly session cookie rides along and the token stays invisible. */
import { createClient } from '@circles/client';

export const browserClient = createClient({ url: '/graphql' });
