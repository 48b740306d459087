import type { Identity, ImagePurpose } from '@circles/platform';
import { MediaHttpError, mediaErrors } from './errors.ts';
import { type MediaService, UPLOAD_PATH, imageUrl } from './service.ts';

const purposes: Record<string, ImagePurpose> = {
  COMMUNITY_AVATAR: 'community_avatar',
  COMMUNITY_BANNER: 'community_banner',
  CIRCLE_IMAGE: 'circle_image',
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers } });

/**
 * The media routes, behind the gateway:
 *   POST /media/images?purpose=COMMUNITY_AVATAR  (body: the file's bytes) -> 201 { id, url, variants }
 *   GET  /media/images/<id>/<size>.webp          -> the stored image
 */
export function createMediaHttp(svc: MediaService) {
  return async (request: Request, identity: Identity): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (url.pathname === UPLOAD_PATH) {
        if (request.method !== 'POST') throw mediaErrors.method('POST');
        return await upload(svc, request, url, identity);
      }
      const m = /^\/media\/images\/([0-9a-f-]{36})\/([a-z]{1,16})\.webp$/.exec(url.pathname);
      if (!m) throw mediaErrors.notFound();
      if (request.method !== 'GET' && request.method !== 'HEAD') throw mediaErrors.method('GET, HEAD');
      const stored = await svc.read(m[1]!, m[2]!);
      if (!stored) throw mediaErrors.notFound();
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(stored.body), {
        status: 200,
        headers: {
          'content-type': stored.contentType,
          'content-length': String(stored.size),
          // Never let a browser guess another type, render it as a page, or run anything in it.
          'x-content-type-options': 'nosniff',
          'content-disposition': `inline; filename="${m[2]}.webp"`,
          'content-security-policy': "default-src 'none'; sandbox",
          'cross-origin-resource-policy': 'same-site',
          // An image id's bytes never change: replacing an avatar makes a new id.
          'cache-control': 'public, max-age=31536000, immutable',
        },
      });
    } catch (err) {
      // A refused upload may leave body bytes unread on the connection: close it rather than reuse it.
      const close: Record<string, string> = request.method === 'POST' ? { connection: 'close' } : {};
      if (err instanceof MediaHttpError) return json(err.status, { error: { code: err.code, message: err.message } }, { ...err.headers, ...close });
      throw err;
    }
  };
}

async function upload(svc: MediaService, request: Request, url: URL, identity: Identity): Promise<Response> {
  const purpose = purposes[url.searchParams.get('purpose')?.toUpperCase() ?? ''];
  if (!purpose) throw mediaErrors.badPurpose();
  const userId = await svc.admit(identity);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > svc.maxUploadBytes) throw mediaErrors.tooLarge(svc.maxUploadBytes);
  // Reading a zero-length body through the server adapter can leave the connection stuck: there is nothing to read.
  if (declared === 0) throw mediaErrors.empty();
  const bytes = await readCapped(request, svc.maxUploadBytes);
  const image = await svc.uploadImage(userId, purpose, bytes);
  return json(201, {
    id: image.id,
    purpose: url.searchParams.get('purpose')!.toUpperCase(),
    url: imageUrl(image.id),
    variants: Object.fromEntries(image.variants.map((v) => [v.name, { url: imageUrl(image.id, v.name), width: v.width, height: v.height }])),
  });
}

/** Reads the body, giving up as soon as it passes the limit (a wrong or missing Content-Length changes nothing). */
async function readCapped(request: Request, max: number): Promise<Buffer> {
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw mediaErrors.tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
