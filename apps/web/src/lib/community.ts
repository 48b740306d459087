/** Server-side loading for community pages: one API call per request, shared by a page and its metadata. */
import { cache } from 'react';
import { headers } from 'next/headers';
import { CirclePageDocument, CommunityPageDocument, MyCommunitiesDocument, type CommunityPageQuery, type MyCommunitiesQuery } from '@circles/client';
import { looksLikeId } from '@/lib/permissions';
import { serverClient } from '@/lib/server-api';

export type CommunityView = NonNullable<CommunityPageQuery['community']>;

/** The community as the visitor may see it; null when it does not exist or is private to them. */
export const loadCommunity = cache(async (slug: string): Promise<CommunityView | null> => {
  // Addresses are lowercase letters, digits and hyphens: anything else cannot exist, so skip the call.
  if (!/^[a-z0-9-]{1,64}$/.test(slug)) return null;
  const { community } = await (await serverClient()).request(CommunityPageDocument, { slug });
  return community;
});

/**
 * The circle if the viewer may see it and it belongs to the community in the address; null otherwise. A hidden
 * circle the viewer may not see and one that does not exist look the same: 404.
 */
export const loadCircle = cache(async (slug: string, circleId: string) => {
  if (!looksLikeId(circleId)) return null;
  const community = await loadCommunity(slug);
  if (!community) return null;
  const { circle } = await (await serverClient()).request(CirclePageDocument, { id: circleId });
  if (!circle || circle.kind !== 'CIRCLE' || circle.community.id !== community.id) return null;
  return { community, circle };
});

/** The signed-in person's communities for the header; empty when anonymous or when the API does not answer. */
export const loadMyCommunities = cache(async (): Promise<MyCommunitiesQuery['myCommunities']> => {
  try {
    return (await (await serverClient()).request(MyCommunitiesDocument)).myCommunities;
  } catch {
    return [];
  }
});

/** Forwarded headers are only believed when the operator says a proxy sets them (TRUST_PROXY, as the gateway). */
function trustsProxy(): boolean {
  const value = process.env.TRUST_PROXY?.trim();
  return Boolean(value) && value !== 'false' && value !== '0';
}

/**
 * The public address of this instance, for absolute URLs (OpenGraph, JSON-LD, sitemap). PUBLIC_URL when the
 * operator set it; otherwise the host the request came to (behind a trusted proxy, its forwarded host and scheme).
 */
export async function publicBaseUrl(): Promise<string> {
  const configured = process.env.PUBLIC_URL?.trim();
  if (configured) return configured.replace(/\/+$/, '');
  const incoming = await headers();
  const forwarded = (name: string) => (trustsProxy() ? incoming.get(name)?.split(',')[0]?.trim() : undefined);
  const host = forwarded('x-forwarded-host') || incoming.get('host') || 'localhost';
  const proto = forwarded('x-forwarded-proto') || 'http';
  return `${proto}://${host}`;
}
