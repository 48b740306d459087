import type { FileVariant, Identity, ImagePurpose } from '@circles/platform';
import { MediaHttpError, mediaErrors } from './errors.ts';
import { contentDisposition, downloadName, isInline } from './files.ts';
import { FILE_UPLOAD_PATH, type MediaService, UPLOAD_PATH, imageUrl } from './service.ts';

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
 *   POST /media/files?name=<file name>           (body: the file's bytes) -> 201 { id, name, contentType, kind,
 *                                                    bytes, width, height, previewUrl }
 *   GET  /media/files/<id>/<original|main|thumb>?exp=..&sig=..  -> the stored file (signed URLs only)
 */
export function createMediaHttp(svc: MediaService) {
  return async (request: Request, identity: Identity): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (url.pathname === UPLOAD_PATH) {
        if (request.method !== 'POST') throw mediaErrors.method('POST');
        return await upload(svc, request, url, identity);
      }
      if (url.pathname === FILE_UPLOAD_PATH) {
        if (request.method !== 'POST') throw mediaErrors.method('POST');
        return await uploadFile(svc, request, url, identity);
      }
      const file = /^\/media\/files\/([0-9a-f-]{36})\/(original|main|thumb)$/.exec(url.pathname);
      if (file) {
        if (request.method !== 'GET' && request.method !== 'HEAD') throw mediaErrors.method('GET, HEAD');
        return await serveFile(svc, request, url, file[1]!, file[2] as FileVariant);
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
  const bytes = await readCapped(request, svc.maxUploadBytes, mediaErrors.tooLarge);
  const image = await svc.uploadImage(userId, purpose, bytes);
  return json(201, {
    id: image.id,
    purpose: url.searchParams.get('purpose')!.toUpperCase(),
    url: imageUrl(image.id),
    variants: Object.fromEntries(image.variants.map((v) => [v.name, { url: imageUrl(image.id, v.name), width: v.width, height: v.height }])),
  });
}

async function uploadFile(svc: MediaService, request: Request, url: URL, identity: Identity): Promise<Response> {
  const userId = await svc.admit(identity, 'file');
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > svc.maxFileBytes) throw mediaErrors.fileTooLarge(svc.maxFileBytes);
  if (declared === 0) throw mediaErrors.empty();
  const bytes = await readCapped(request, svc.maxFileBytes, mediaErrors.fileTooLarge);
  const row = await svc.uploadFile(userId, url.searchParams.get('name'), bytes);
  return json(201, {
    id: row.id,
    name: row.name,
    contentType: row.content_type,
    kind: row.kind,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    previewUrl: svc.previewUrl(row),
  });
}

/**
 * A stored file, only by a signed URL (the service that shows it decided who may read it). Active content never
 * reaches a browser as such: types come from sniffing, `nosniff` stops guessing, the CSP sandboxes whatever is
 * shown inline (images, audio, video, PDF), and everything else is a download.
 */
async function serveFile(svc: MediaService, request: Request, url: URL, fileId: string, variant: FileVariant): Promise<Response> {
  if (!svc.verifyLink(url.pathname, url.searchParams)) throw mediaErrors.badLink();
  const found = await svc.readFile(fileId, variant);
  if (!found) throw mediaErrors.notFound();
  const { row, variant: stored, object } = found;
  const type = stored.contentType;
  const secondsLeft = Number(url.searchParams.get('exp')) - Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': type === 'text/plain' ? 'text/plain; charset=utf-8' : type,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cross-origin-resource-policy': 'same-site',
    'referrer-policy': 'no-referrer',
    // Private: the link is someone's permission. Never cached past the link's own expiry.
    'cache-control': `private, max-age=${Math.max(0, Math.min(3600, secondsLeft))}`,
    'content-disposition': contentDisposition(isInline(type) ? 'inline' : 'attachment', downloadName(row.name, type)),
  };
  let body = object.body;
  let status = 200;
  if (/^(audio|video)\//.test(type)) {
    // Players seek with a single byte range.
    headers['accept-ranges'] = 'bytes';
    const range = request.headers.get('range');
    if (range) {
      const r = parseRange(range, object.size);
      if (r === 'invalid') throw mediaErrors.badRange(object.size);
      if (r) {
        body = object.body.subarray(r.start, r.end + 1);
        status = 206;
        headers['content-range'] = `bytes ${r.start}-${r.end}/${object.size}`;
      }
    }
  }
  headers['content-length'] = String(body.length);
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status, headers });
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null (send it all) for forms not handled, 'invalid' past the end. */
function parseRange(header: string, size: number): { start: number; end: number } | null | 'invalid' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return null;
  let start: number, end: number;
  if (!m[1]) {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (m[2] && Number(m[2]) < start) return null;
  }
  if (start >= size) return 'invalid';
  return { start, end };
}

/** Reads the body, giving up as soon as it passes the limit (a wrong or missing Content-Length changes nothing). */
async function readCapped(request: Request, max: number, tooLarge: (max: number) => MediaHttpError): Promise<Buffer> {
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
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
