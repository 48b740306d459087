/** Server-side loading for community pages: one API call per request, shared by a page and its metadata. */
import { cache } from 'react';
import { headers } from 'next/headers';
import { CommunityPageDocument, MyCommunitiesDocument, type CommunityPageQuery, type MyCommunitiesQuery } from '@circles/client';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';

export type CommunityView = NonNullable<CommunityPageQuery['community']>;

/** The community as the visitor may see it; null when it does not exist or is private to them. */
export const loadCommunity = cache(async (slug: string): Promise<CommunityView | null> => {
  // Addresses are lowercase letters, digits and hyphens: anything else cannot exist, so skip the call.
  if (!/^[a-z0-9-]{1,64}$/.test(slug)) return null;
  const { community } = await (await serverClient()).request(CommunityPageDocument, { slug });
  return community;
});

/** The signed-in person's communities for the header; empty when anonymous or when the API does not answer. */
export const loadMyCommunities = cache(async (): Promise<MyCommunitiesQuery['myCommunities']> => {
  try {
    return (await (await serverClient()).request(MyCommunitiesDocument)).myCommunities;
  } catch {
    return [];
  }
});

/**
 * The public address of this instance, for absolute URLs (OpenGraph, JSON-LD, sitemap). PUBLIC_URL when the
 * operator set it; otherwise the host the request came to (behind a proxy, its forwarded host and scheme).
 */
export async function publicBaseUrl(): Promise<string> {
  const configured = process.env.PUBLIC_URL?.trim();
  if (configured) return configured.replace(/\/+$/, '');
  const incoming = await headers();
  const host = incoming.get('x-forwarded-host')?.split(',')[0]?.trim() || incoming.get('host') || 'localhost';
  const proto = incoming.get('x-forwarded-proto')?.split(',')[0]?.trim() || 'http';
  return `${proto}://${host}`;
}

export function memberCountLabel(count: number): string {
  return count === 1 ? t('community.memberCountOne') : t('community.memberCount', { count });
}
