import { createHmac } from 'node:crypto';
import { safeEqual } from './ids.ts';

/**
 * Short-lived signed URLs for files that only some people may read (an attachment in a private or gated circle).
 * The service that decides who may read (posts) signs a path when it hands it to a reader; the service that serves
 * the bytes (media) checks the signature and expiry, with no database lookup and no call back. The key is derived
 * from the gateway secret every process already shares, so any process may sign or verify.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('circles:signed-url:v1').digest();
  }

  /** `path?exp=<unix seconds>&sig=<mac>`; the path must not carry a query of its own. */
  sign(path: string, expiresAt: Date): string {
    const exp = Math.ceil(expiresAt.getTime() / 1000);
    return `${path}?exp=${exp}&sig=${this.mac(path, exp)}`;
  }

  /** True when this path was signed by a holder of the secret and has not expired. */
  verify(path: string, query: URLSearchParams, now = Date.now()): boolean {
    const exp = Number(query.get('exp'));
    const sig = query.get('sig');
    if (!Number.isSafeInteger(exp) || !sig || exp * 1000 < now) return false;
    return safeEqual(sig, this.mac(path, exp));
  }

  private mac(path: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${exp}\n${path}`).digest('base64url');
  }
}

/**
 * When a signed URL handed out now should expire: at the end of the next whole window after `ttlMs`, so the same
 * page rendered twice within a window carries the same URL (browser and CDN caches keep working).
 */
export function signedUrlExpiry(ttlMs: number, now = Date.now()): Date {
  const window = Math.max(60_000, Math.floor(ttlMs / 2));
  return new Date(Math.ceil((now + ttlMs) / window) * window);
}
