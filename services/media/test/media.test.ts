import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import type { ServiceDeps } from '@circles/platform';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegWithGps, png } from './fixtures.ts';
import { MediaService } from '../src/service.ts';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const MAX = 256 * 1024;


describe.each(modes)('media uploads and community images (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let community: { id: string; slug: string };
  let cookie = '';

  const upload = (body: BodyInit | null, opts: { purpose?: string; token?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${p.url}/media/images${opts.purpose === undefined ? '?purpose=COMMUNITY_AVATAR' : opts.purpose ? `?purpose=${opts.purpose}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  const uploadOk = async (bytes: Buffer, purpose = 'COMMUNITY_AVATAR', who = 'olga') => {
    const res = await upload(new Uint8Array(bytes), { purpose, token: tokens[who] });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; url: string; variants: Record<string, { url: string; width: number; height: number }> };
  };
  const get = (url: string) => fetch(`${p.url}${url}`);
  const setImage = (who: string, kind: string, uploadId: string | null) =>
    p.gql(`mutation($c: ID!, $k: CommunityImageKind!, $u: ID) { setCommunityImage(communityId: $c, kind: $k, uploadId: $u) { avatarUrl bannerUrl } }`, { c: community.id, k: kind, u: uploadId }, { token: tokens[who] });

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode, { mediaMaxUploadBytes: MAX });
    for (const who of ['olga', 'mike', 'nina']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@example.com`, password: pw, handle: who, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const login = await p.gql(`mutation { logIn(input: { email: "nina@example.com", password: "${pw}" }) { account { id } } }`);
    cookie = login.setSessionCookie!;
    expect(cookie).toBeTruthy();
    community = (await p.gql(`mutation { createCommunity(input: { name: "Pictures", slug: "pictures" }) { id slug } }`, {}, { token: tokens.olga })).data.createCommunity;
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: community.id }, { token: tokens.mike });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('tells clients the limits', async () => {
    const r = await p.gql(`{ mediaLimits { maxUploadBytes imageTypes imageUploadPath } }`);
    expect(r.data.mediaLimits).toEqual({ maxUploadBytes: MAX, imageTypes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'], imageUploadPath: '/media/images' });
  });

  it.runIf(run)('re-encodes an upload into WebP sizes and serves them as inert, cacheable images', async () => {
    const img = await uploadOk(await png());
    expect(img.variants.main).toMatchObject({ width: 512, height: 512 });
    expect(img.variants.thumb).toMatchObject({ width: 96, height: 96 });
    const res = await get(img.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="main.webp"');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(res.headers.get('cache-control')).toContain('immutable');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 512, height: 512 });
    const banner = await uploadOk(await png(3000, 1000), 'COMMUNITY_BANNER');
    expect(banner.variants.main).toMatchObject({ width: 1600, height: 400 });
  });

  it.runIf(run)('strips EXIF (GPS position, camera) from photos', async () => {
    const photo = await jpegWithGps();
    const before = await sharp(photo).metadata();
    expect(before.exif?.includes(Buffer.from('PhoneCo'))).toBe(true); // the fixture really carries EXIF
    const img = await uploadOk(photo);
    for (const v of Object.values(img.variants)) {
      const stored = Buffer.from(await (await get(v.url)).arrayBuffer());
      const meta = await sharp(stored).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(stored.includes(Buffer.from('PhoneCo'))).toBe(false);
      expect(stored.includes(Buffer.from('Snapper'))).toBe(false);
    }
  });

  it.runIf(run)('refuses what is not an image, whatever it claims to be', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>');
    const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
    const cases: [string, Buffer, Record<string, string>][] = [
      ['svg with script', svg, { 'content-type': 'image/svg+xml' }],
      ['html named .png', html, { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="cat.png"' }],
      ['plain text', Buffer.from('hello'), { 'content-type': 'image/jpeg' }],
      ['pdf', Buffer.from('%PDF-1.7\n1 0 obj'), {}],
      ['png signature followed by garbage', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(500, 7)]), {}],
      ['truncated jpeg', (await jpegWithGps()).subarray(0, 300), {}],
    ];
    for (const [name, body, headers] of cases) {
      const res = await upload(new Uint8Array(body), { token: tokens.olga, headers });
      expect(res.status, name).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code, name).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it.runIf(run)('refuses oversized uploads, declared or not, and empty ones', async () => {
    const big = Buffer.alloc(MAX + 1, 1);
    big.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const declared = await upload(new Uint8Array(big), { token: tokens.olga });
    expect(declared.status).toBe(413);
    // Streamed without a Content-Length: counted while reading, cut off past the limit.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(64 * 1024).fill(i === 0 ? 0x89 : 1));
        c.close();
      },
    });
    expect((await upload(stream, { token: tokens.olga })).status).toBe(413);
    expect((await upload(new Uint8Array(0), { token: tokens.olga })).status).toBe(400);
  });

  it.runIf(run)('needs a signed-in user, a purpose, and the CSRF header for cookie sessions', async () => {
    const bytes = new Uint8Array(await png(64, 64));
    expect((await upload(bytes)).status).toBe(401);
    expect((await upload(bytes, { token: tokens.olga, purpose: '' })).status).toBe(400);
    expect((await upload(bytes, { token: tokens.olga, purpose: 'EVERYTHING' })).status).toBe(400);
    const viaCookie = (headers: Record<string, string>) => upload(bytes, { headers: { cookie: `circles_session=${cookie}`, ...headers } });
    expect((await viaCookie({})).status).toBe(403);
    expect((await viaCookie({ 'x-circles-csrf': '1', origin: 'https://evil.example' })).status).toBe(403);
    expect((await viaCookie({ 'x-circles-csrf': '1' })).status).toBe(201);
    expect((await fetch(`${p.url}/media/images`, { method: 'GET' })).status).toBe(405);
  });

  it.runIf(run)('serves nothing outside stored images', async () => {
    for (const path of ['/media/images/../../etc/passwd', '/media/images/%2e%2e/%2e%2e/etc/passwd', '/media/images/00000000-0000-4000-8000-000000000000/main.webp', '/media/images/x/main.webp', '/media/whatever']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it.runIf(run)('sets community images only for managers, only with their own upload for that purpose; replaced images are deleted', async () => {
    const first = await uploadOk(await png());
    expect(codeOf(await setImage('mike', 'AVATAR', first.id))).toBe('FORBIDDEN');
    const mikes = await uploadOk(await png(), 'COMMUNITY_AVATAR', 'mike');
    const stolen = await setImage('olga', 'AVATAR', mikes.id);
    expect(codeOf(stolen)).toBe('BAD_USER_INPUT');
    expect(stolen.errors![0]!.extensions!.field).toBe('uploadId');
    const banner = await uploadOk(await png(2000, 500), 'COMMUNITY_BANNER');
    expect(codeOf(await setImage('olga', 'AVATAR', banner.id))).toBe('BAD_USER_INPUT'); // made for the banner
    expect(codeOf(await setImage('olga', 'AVATAR', 'not-an-id'))).toBe('BAD_USER_INPUT');

    expect((await setImage('olga', 'AVATAR', first.id)).data.setCommunityImage.avatarUrl).toBe(first.url);
    expect((await setImage('olga', 'BANNER', banner.id)).data.setCommunityImage).toEqual({ avatarUrl: first.url, bannerUrl: banner.url });
    const home = await p.gql(`{ community(slug: "pictures") { avatarUrl bannerUrl } }`);
    expect(home.data.community).toEqual({ avatarUrl: first.url, bannerUrl: banner.url });

    const second = await uploadOk(await png());
    await setImage('olga', 'AVATAR', second.id);
    expect((await get(first.url)).status).toBe(404); // the replaced avatar is gone
    expect((await get(second.url)).status).toBe(200);
    expect((await setImage('olga', 'AVATAR', null)).data.setCommunityImage.avatarUrl).toBeNull();
    expect((await get(second.url)).status).toBe(404);
    const audit = await p.gql(`query($c: ID!) { auditLog(communityId: $c, action: "community.avatar") { after } }`, { c: community.id }, { token: tokens.olga });
    expect(audit.data.auditLog.map((r: { after: string }) => JSON.parse(r.after).url)).toEqual([null, second.url, first.url]);
  });

  it.runIf(run)('circle hosts set a circle image; deleting the community deletes its images', async () => {
    const c = (await p.gql(`mutation { createCommunity(input: { name: "Short Lived Pics", slug: "short-lived-pics" }) { id } }`, {}, { token: tokens.nina })).data.createCommunity;
    const circle = (await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Gallery" }) { id } }`, { c: c.id }, { token: tokens.nina })).data.createCircle;
    const pic = await uploadOk(await png(1920, 1080), 'CIRCLE_IMAGE', 'nina');
    expect(pic.variants.main).toMatchObject({ width: 1200, height: 675 });
    const set = await p.gql(`mutation($s: ID!, $u: ID) { setCircleImage(circleId: $s, uploadId: $u) { imageUrl } }`, { s: circle.id, u: pic.id }, { token: tokens.nina });
    expect(set.data.setCircleImage.imageUrl).toBe(pic.url);
    const avatar = await uploadOk(await png(), 'COMMUNITY_AVATAR', 'nina');
    await p.gql(`mutation($c: ID!, $u: ID) { setCommunityImage(communityId: $c, kind: AVATAR, uploadId: $u) { id } }`, { c: c.id, u: avatar.id }, { token: tokens.nina });

    await p.gql(`mutation($id: ID!) { deleteCommunity(id: $id, confirmSlug: "short-lived-pics") }`, { id: c.id }, { token: tokens.nina });
    // Media hears community.deleted through the event log and deletes what the community used.
    const deadline = Date.now() + 15_000;
    while ((await get(avatar.url)).status !== 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await get(avatar.url)).status).toBe(404);
    // The circle went with the community; its image is released by the same event.
    expect((await get(pic.url)).status).toBe(404);
  });

  it.runIf(run)('sweeps uploads nobody used after a day, and keeps used ones', async () => {
    const unused = await uploadOk(await png(100, 100));
    const used = await uploadOk(await png(100, 100));
    await setImage('olga', 'AVATAR', used.id);
    const svc = new MediaService({ config: p.host.config, db: p.infra.database!.db, objects: p.infra.objects, limits: p.infra.limits } as unknown as ServiceDeps);
    expect(await svc.sweepUnclaimed(new Date())).toBe(0); // nothing is a day old yet
    expect(await svc.sweepUnclaimed(new Date(Date.now() + 25 * 3_600_000))).toBeGreaterThan(0);
    expect((await get(unused.url)).status).toBe(404);
    expect((await get(used.url)).status).toBe(200);
  });

  it.runIf(run)('limits how fast one person uploads', async () => {
    const bytes = new Uint8Array(await png(32, 32));
    let limited: Response | null = null;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await upload(bytes, { token: tokens.mike });
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(201);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await upload(bytes, { token: tokens.nina })).status).toBe(201); // others are unaffected
  });
});
