import type { MetadataRoute } from 'next';
import { SitemapCommunitiesDocument, type SitemapCommunitiesQuery } from '@circles/client';
import { publicBaseUrl } from '@/lib/community';
import { serverClient } from '@/lib/server-api';

// Communities come and go: ask the API on every request, never at build time.
export const dynamic = 'force-dynamic';

/** The most a page of the directory API gives. */
const PAGE = 1000;
/** The sitemap protocol's limit for one file. Beyond it, the newest communities are listed (a sitemap index would list them all). */
const MAX_URLS = 50_000;

/** The home page, the directory and every listed community (unlisted and private ones stay out), newest first. */
export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  const base = await publicBaseUrl();
  const client = await serverClient();
  const entries: MetadataRoute.Sitemap = [
    { url: `${base}/`, changeFrequency: 'weekly', priority: 1 },
    { url: `${base}/communities`, changeFrequency: 'daily', priority: 0.8 },
  ];
  // Keyset paging: each page starts after the last community of the one before.
  let after: string | null = null;
  while (entries.length < MAX_URLS) {
    const { communities }: SitemapCommunitiesQuery = await client.request(SitemapCommunitiesDocument, { first: Math.min(PAGE, MAX_URLS - entries.length), after });
    for (const c of communities) entries.push({ url: `${base}/c/${c.slug}`, changeFrequency: 'daily', priority: 0.7 });
    const last: SitemapCommunitiesQuery['communities'][number] | undefined = communities[communities.length - 1];
    if (!last || communities.length < PAGE) break;
    after = last.id;
  }
  return entries;
}
