import type { MetadataRoute } from 'next';
import { CommunityDirectoryDocument } from '@circles/client';
import { publicBaseUrl } from '@/lib/community';
import { serverClient } from '@/lib/server-api';

// Communities come and go: ask the API on every request, never at build time.
export const dynamic = 'force-dynamic';

/** The home page, the directory and every listed community (unlisted and private ones stay out). */
export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  const base = await publicBaseUrl();
  const { communities } = await (await serverClient()).request(CommunityDirectoryDocument, { first: 100 });
  return [
    { url: `${base}/`, changeFrequency: 'weekly', priority: 1 },
    { url: `${base}/communities`, changeFrequency: 'daily', priority: 0.8 },
    ...communities.map((c) => ({ url: `${base}/c/${c.slug}`, changeFrequency: 'daily' as const, priority: 0.7 })),
  ];
}
