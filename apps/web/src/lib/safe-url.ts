/** Checking addresses that arrive from elsewhere (query strings) before the browser follows them. No imports: unit-tested. */

/**
 * Where a link from elsewhere (the onboarding page's `return`) may send the browser: a path on this site, or an
 * absolute URL on one of `origins` (this page's, and the configured public address). Anything else is refused
 * (null), so the page cannot be used to send people to another site.
 */
export function sameSiteTarget(target: string | null | undefined, origins: readonly string[]): string | null {
  if (!target) return null;
  if (target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\')) return target;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const allowed = origins.flatMap((o) => {
    try {
      return [new URL(o).origin];
    } catch {
      return [];
    }
  });
  return allowed.includes(url.origin) ? `${url.pathname}${url.search}${url.hash}` : null;
}
