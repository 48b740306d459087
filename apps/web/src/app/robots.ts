import type { MetadataRoute } from 'next';
import { publicBaseUrl } from '@/lib/community';

export const dynamic = 'force-dynamic';

export default async function robots(): Promise<MetadataRoute.Robots> {
  const base = await publicBaseUrl();
  return {
    rules: { userAgent: '*', allow: ['/', '/c/', '/communities'], disallow: ['/account', '/admin', '/join/', '/billing/'] },
    sitemap: `${base}/sitemap.xml`,
    host: base,
  };
}
