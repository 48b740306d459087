import { readdirSync } from 'node:fs';
import path from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { DomainError, fileUrlPath, type FileVariant, type ServiceDeps, UrlSigner } from '@circles/platform';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegWithGps, png } from './fixtures.ts';
import { contentDisposition, detectFileType, downloadName, safeFileName } from '../src/files.ts';
import { MediaService } from '../src/service.ts';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const MAX = 256 * 1024;

const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%\xe2\xe3\xcf\xd3 binary \x00\x01\x02\n%%EOF\n', 'latin1');
const svgWithScript = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>');
const htmlPage = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');

/** A ZIP with stored (uncompressed) entries, as office suites and e-book tools write them. */
function zip(entries: [string, string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of entries) {
    const data = Buffer.from(text);
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
const ftyp = (brand: string) => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from(`ftyp${brand}\0\0\0\0isommp41`, 'latin1'), Buffer.alloc(64, 3)]);

describe('file types, names and dispositions', () => {
  it('decides the type from the bytes alone', async () => {
    const cases: [string, Buffer, string, string][] = [
      ['png', await png(8, 8), 'image/png', 'image'],
      ['pdf', pdf, 'application/pdf', 'document'],
      ['zip', zip([['a.txt', 'hi']]), 'application/zip', 'archive'],
      ['docx', zip([['[Content_Types].xml', '<Types/>'], ['_rels/.rels', ''], ['word/document.xml', '<w/>']]), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'document'],
      ['xlsx', zip([['[Content_Types].xml', '<Types/>'], ['xl/workbook.xml', '<x/>']]), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'document'],
      ['pptx', zip([['[Content_Types].xml', '<Types/>'], ['ppt/presentation.xml', '<p/>']]), 'application/vnd.openxmlformats-officedocument.presentationml.presentation', 'document'],
      ['docm (macros)', zip([['[Content_Types].xml', '<Types/>'], ['word/document.xml', '<w/>'], ['word/vbaProject.bin', 'x']]), 'application/zip', 'archive'],
      ['word/ folder without content types', zip([['word/document.xml', '<w/>']]), 'application/zip', 'archive'],
      ['odt', zip([['mimetype', 'application/vnd.oasis.opendocument.text'], ['content.xml', '<o/>']]), 'application/vnd.oasis.opendocument.text', 'document'],
      ['epub', zip([['mimetype', 'application/epub+zip'], ['META-INF/container.xml', '<c/>']]), 'application/epub+zip', 'document'],
      ['gzip', gzipSync('hello'), 'application/gzip', 'archive'],
      ['7z', Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4, 1, 2]), 'application/x-7z-compressed', 'archive'],
      ['rar', Buffer.from('Rar!\x1a\x07\x01\x00rest', 'latin1'), 'application/vnd.rar', 'archive'],
      ['mp4', ftyp('isom'), 'video/mp4', 'video'],
      ['mov', ftyp('qt  '), 'video/quicktime', 'video'],
      ['m4a', ftyp('M4A '), 'audio/mp4', 'audio'],
      ['heic still', ftyp('heic'), 'application/octet-stream', 'other'],
      ['webm', Buffer.from('\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87', 'latin1'), 'video/webm', 'video'],
      ['mkv', Buffer.from('\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska', 'latin1'), 'video/x-matroska', 'video'],
      ['mp3 with ID3', Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00rest', 'latin1'), 'audio/mpeg', 'audio'],
      ['mp3 frame', Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0]), 'audio/mpeg', 'audio'],
      ['aac adts is not mp3', Buffer.from([0xff, 0xf1, 0x50, 0x80, 0, 0, 0, 0]), 'application/octet-stream', 'other'],
      ['ogg', Buffer.from('OggS\x00\x02rest', 'latin1'), 'audio/ogg', 'audio'],
      ['wav', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), 'audio/wav', 'audio'],
      ['flac', Buffer.from('fLaC\x00\x00\x00\x22', 'latin1'), 'audio/flac', 'audio'],
      ['text', Buffer.from('Meeting notes\n- Ünïcödé ✓\n'), 'text/plain', 'text'],
      ['json is text', Buffer.from('{"a": "<b>"}'), 'text/plain', 'text'],
      ['svg', svgWithScript, 'application/octet-stream', 'other'],
      ['svg after BOM, spaces and a comment', Buffer.from('\ufeff \n <!-- drawn by hand --><svg onload="alert(1)"/>'), 'application/octet-stream', 'other'],
      ['xml', Buffer.from('<?xml version="1.0"?><x:html xmlns:x="http://www.w3.org/1999/xhtml"><x:script>alert(1)</x:script></x:html>'), 'application/octet-stream', 'other'],
      ['html', htmlPage, 'application/octet-stream', 'other'],
      ['bare script', Buffer.from('  <script>alert(1)</script>'), 'application/octet-stream', 'other'],
      ['utf-16 text (NUL bytes)', Buffer.from('\ufeffhello', 'utf16le'), 'application/octet-stream', 'other'],
      ['invalid utf-8', Buffer.from([0x68, 0xc3, 0x28, 0x69]), 'application/octet-stream', 'other'],
      ['random binary', Buffer.from([0x00, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef]), 'application/octet-stream', 'other'],
    ];
    for (const [name, bytes, contentType, kind] of cases) expect(detectFileType(bytes), name).toMatchObject({ contentType, kind });
  });

  it('makes names safe: no path, control or bidi characters, at most 200 characters with the extension kept', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..\\..\\boot.ini')).toBe('boot.ini');
    expect(safeFileName('C:\\Users\\olga\\Desktop\\Report Q3.pdf')).toBe('Report Q3.pdf');
    expect(safeFileName('invoice\u202Egpj.exe')).toBe('invoicegpj.exe');
    expect(safeFileName('a\u0000b\u0007c\r\n.txt')).toBe('abc.txt');
    expect(safeFileName('  spaced   out  .txt ')).toBe('spaced out .txt');
    expect(safeFileName('..')).toBe('file');
    expect(safeFileName('dir/')).toBe('file');
    expect(safeFileName('\u202E')).toBe('file');
    expect(safeFileName(null)).toBe('file');
    expect(safeFileName('')).toBe('file');
    expect(safeFileName('Zoë 🎉 notes.md')).toBe('Zoë 🎉 notes.md');
    const long = safeFileName(`${'🎉'.repeat(300)}.tar.gz`);
    expect(Array.from(long)).toHaveLength(200);
    expect(long.endsWith('🎉.gz')).toBe(true);
    expect(Array.from(safeFileName('x'.repeat(500)))).toHaveLength(200);
  });

  it('names downloads safely in both header forms', () => {
    expect(contentDisposition('attachment', 'a "quoted" \\ name ünï%.txt')).toBe(
      `attachment; filename="a _quoted_ _ name _n__.txt"; filename*=UTF-8''a%20%22quoted%22%20%5C%20name%20%C3%BCn%C3%AF%25.txt`,
    );
    expect(contentDisposition('inline', "it's (1)*.pdf")).toBe(`inline; filename="it's (1)*.pdf"; filename*=UTF-8''it%27s%20%281%29%2A.pdf`);
    expect(downloadName('photo.PNG', 'image/webp')).toBe('photo.webp');
    expect(downloadName('report.pdf', 'application/pdf')).toBe('report.pdf');
    expect(downloadName('file', 'image/webp')).toBe('file.webp');
  });
});

describe.each(modes)('file attachments (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let signer: UrlSigner;

  type Uploaded = { id: string; name: string; contentType: string; kind: string; bytes: number; width: number | null; height: number | null; previewUrl: string | null };
  const upload = (body: BodyInit | null, opts: { name?: string | null; token?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${p.url}/media/files${opts.name === null ? '' : `?name=${encodeURIComponent(opts.name ?? 'file.bin')}`}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  const uploadOk = async (bytes: Buffer, name: string | null, who = 'olga', headers: Record<string, string> = {}) => {
    const res = await upload(new Uint8Array(bytes), { name, token: tokens[who], headers });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Uploaded;
  };
  const signed = (id: string, variant: FileVariant = 'original', expiresAt = new Date(Date.now() + 600_000)) => signer.sign(fileUrlPath(id, variant), expiresAt);
  const get = (url: string, init?: RequestInit) => fetch(`${p.url}${url}`, init);
  const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());
  const media = () => p.host.apis!.media;
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  };

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode, { mediaMaxFileBytes: MAX });
    signer = new UrlSigner(p.infra.gatewaySecret);
    for (const who of ['olga', 'mike', 'rita']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@example.com`, password: pw, handle: who, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('tells clients the file limit and where to upload', async () => {
    const r = await p.gql(`{ mediaLimits { maxFileBytes fileUploadPath } }`);
    expect(r.data.mediaLimits).toEqual({ maxFileBytes: MAX, fileUploadPath: '/media/files' });
  });

  it.runIf(run)('stores SVG and HTML as inert downloads, whatever they are called or claim to be', async () => {
    const cases: [string, Buffer, string, Record<string, string>][] = [
      ['svg with script', svgWithScript, 'cat.svg', { 'content-type': 'image/svg+xml' }],
      ['html renamed .png', htmlPage, 'cat.png', { 'content-type': 'image/png' }],
      ['xhtml', Buffer.from('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'), 'page.xhtml', {}],
    ];
    for (const [label, bytes, name, headers] of cases) {
      const f = await uploadOk(bytes, name, 'olga', headers);
      expect(f, label).toMatchObject({ name, contentType: 'application/octet-stream', kind: 'other', bytes: bytes.length, width: null, height: null, previewUrl: null });
      const res = await get(signed(f.id));
      expect(res.status, label).toBe(200);
      expect(res.headers.get('content-type'), label).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition'), label).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      expect((await bytesOf(res)).equals(bytes), label).toBe(true);
      for (const v of ['main', 'thumb'] as const) expect((await get(signed(f.id, v))).status, `${label} ${v}`).toBe(404);
    }
  });

  it.runIf(run)('detects a PNG named report.pdf as an image and re-encodes it to WebP sizes without enlarging', async () => {
    const f = await uploadOk(await png(3000, 1000), 'report.pdf', 'olga', { 'content-type': 'application/pdf' });
    expect(f).toMatchObject({ name: 'report.pdf', contentType: 'image/webp', kind: 'image', width: 2048, height: 683 });
    expect(f.previewUrl).toMatch(new RegExp(`^/media/files/${f.id}/thumb\\?exp=\\d+&sig=[\\w-]+$`));
    const exp = Number(new URL(f.previewUrl!, p.url).searchParams.get('exp'));
    expect(exp * 1000 - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(exp * 1000 - Date.now()).toBeLessThan(25 * 60_000);
    const thumb = await get(f.previewUrl!);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(thumb.headers.get('content-disposition')).toBe(`inline; filename="report.webp"; filename*=UTF-8''report.webp`);
    expect(await sharp(await bytesOf(thumb)).metadata()).toMatchObject({ format: 'webp', width: 480, height: 160 });
    const main = await bytesOf(await get(signed(f.id, 'main')));
    expect(await sharp(main).metadata()).toMatchObject({ format: 'webp', width: 2048, height: 683 });
    expect(main.length).toBe(f.bytes);
    // No original is kept: the download is the re-encoded main size.
    expect((await bytesOf(await get(signed(f.id, 'original')))).equals(main)).toBe(true);

    const small = await uploadOk(await png(100, 80), 'tiny.png');
    expect(small).toMatchObject({ width: 100, height: 80 });
    expect(await sharp(await bytesOf(await get(signed(small.id, 'thumb')))).metadata()).toMatchObject({ width: 100, height: 80 });
  });

  it.runIf(run)('refuses what looks like an image but does not decode', async () => {
    const res = await upload(new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(500, 7)])), { token: tokens.olga, name: 'x.png' });
    expect(res.status).toBe(415);
  });

  it.runIf(run)('serves text named .jpg as plain text, as a download', async () => {
    const text = Buffer.from('not a picture\n<script>alert(1)</script>\n');
    const f = await uploadOk(text, 'holiday.jpg', 'olga', { 'content-type': 'image/jpeg' });
    expect(f).toMatchObject({ contentType: 'text/plain', kind: 'text', previewUrl: null });
    const res = await get(signed(f.id));
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect((await bytesOf(res)).equals(text)).toBe(true);
  });

  it.runIf(run)('keeps a PDF byte for byte and shows it inline', async () => {
    const f = await uploadOk(pdf, 'Quarterly Report – Zoë.pdf');
    expect(f).toMatchObject({ name: 'Quarterly Report – Zoë.pdf', contentType: 'application/pdf', kind: 'document', bytes: pdf.length, previewUrl: null });
    const res = await get(signed(f.id));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="Quarterly Report _ Zo_.pdf"; filename*=UTF-8''Quarterly%20Report%20%E2%80%93%20Zo%C3%AB.pdf`);
    expect((await bytesOf(res)).equals(pdf)).toBe(true);
  });

  it.runIf(run)('refuses oversized files, declared or streamed, and empty ones', async () => {
    const declared = await upload(new Uint8Array(MAX + 1), { token: tokens.olga });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(64 * 1024).fill(65));
        c.close();
      },
    });
    expect((await upload(stream, { token: tokens.olga })).status).toBe(413);
    // Just under the limit is fine, streamed too.
    const fits = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(MAX).fill(66));
        c.close();
      },
    });
    const ok = await upload(fits, { token: tokens.olga, name: 'b.txt' });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as Uploaded).bytes).toBe(MAX);
    expect((await upload(new Uint8Array(0), { token: tokens.olga })).status).toBe(400);
  });

  it.runIf(run)('keeps only the last part of a path as the name; storage keys come from the id alone', async () => {
    const a = await uploadOk(Buffer.from('root:x:0:0'), '../../etc/passwd');
    const b = await uploadOk(Buffer.from('[boot loader]'), '..\\..\\boot.ini');
    const c = await uploadOk(Buffer.from('nameless'), null);
    expect([a.name, b.name, c.name]).toEqual(['passwd', 'boot.ini', 'file']);
    for (const f of [a, b, c]) expect(await p.infra.objects.get(`files/${f.id}/original`)).not.toBeNull();
    if (p.infra.objects.kind === 'disk') {
      const all = (readdirSync(path.join(p.host.config.dataDir, 'objects'), { recursive: true }) as string[]).join('\n');
      expect(all).toContain(a.id);
      expect(all).not.toMatch(/passwd|boot\.ini/);
    }
    for (const escape of ['/etc/passwd', '../passwd']) expect((await get(`/media/files/${a.id}/${escape}`)).status).toBe(404);
  });

  it.runIf(run)('strips EXIF (GPS position, camera) from attached photos', async () => {
    const photo = await jpegWithGps();
    expect((await sharp(photo).metadata()).exif?.includes(Buffer.from('PhoneCo'))).toBe(true); // the fixture really carries EXIF
    const f = await uploadOk(photo, 'IMG_0001.JPG');
    expect(f).toMatchObject({ kind: 'image', contentType: 'image/webp', width: 640, height: 480 });
    for (const v of ['main', 'thumb'] as const) {
      const stored = await bytesOf(await get(signed(f.id, v)));
      const meta = await sharp(stored).metadata();
      expect(meta.format).toBe('webp');
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(stored.includes(Buffer.from('PhoneCo'))).toBe(false);
      expect(stored.includes(Buffer.from('Snapper'))).toBe(false);
    }
  });

  it.runIf(run)('serves files only by a valid, unexpired signature for that very file and size', async () => {
    const f = await uploadOk(await png(600, 400), 'pic.png');
    const other = await uploadOk(Buffer.from('other file'), 'other.txt');
    const good = signed(f.id, 'main');
    const sig = new URL(good, p.url).searchParams.get('sig')!;
    const exp = new URL(good, p.url).searchParams.get('exp')!;
    const forbidden = async (url: string, label: string) => {
      const res = await get(url);
      expect(res.status, label).toBe(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code, label).toBe('FORBIDDEN');
      expect(body.error.message, label).toMatch(/expired or is not valid.*Reload the page/);
    };
    await forbidden(fileUrlPath(f.id, 'main'), 'no signature');
    await forbidden(`${fileUrlPath(f.id, 'main')}?exp=${exp}`, 'no sig');
    await forbidden(`${fileUrlPath(f.id, 'main')}?exp=${exp}&sig=${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`, 'tampered sig');
    await forbidden(`${fileUrlPath(f.id, 'main')}?exp=${Number(exp) + 3600}&sig=${sig}`, 'extended expiry');
    await forbidden(signed(f.id, 'main', new Date(Date.now() - 1000)), 'expired');
    await forbidden(`${fileUrlPath(other.id, 'original')}?exp=${exp}&sig=${sig}`, "another file's signature");
    await forbidden(`${fileUrlPath(f.id, 'thumb')}?exp=${exp}&sig=${sig}`, "another size's signature");
    await forbidden(new UrlSigner('x'.repeat(64)).sign(fileUrlPath(f.id, 'main'), new Date(Date.now() + 60_000)), 'signed with another secret');
    // Validly signed but no such file: 404, only after the signature checks.
    expect((await get(signed('00000000-0000-4000-8000-000000000000'))).status).toBe(404);

    const res = await get(good);
    expect(res.status).toBe(200);
    expect(Object.fromEntries(['content-type', 'x-content-type-options', 'content-security-policy', 'cross-origin-resource-policy', 'content-disposition'].map((h) => [h, res.headers.get(h)]))).toEqual({
      'content-type': 'image/webp',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cross-origin-resource-policy': 'same-site',
      'content-disposition': `inline; filename="pic.webp"; filename*=UTF-8''pic.webp`,
    });
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers.get('cache-control')!)![1]);
    expect(maxAge).toBeGreaterThan(500);
    expect(maxAge).toBeLessThanOrEqual(601); // expiry is rounded up to the second
    const far = await get(signed(f.id, 'main', new Date(Date.now() + 5 * 3_600_000)));
    expect(far.headers.get('cache-control')).toBe('private, max-age=3600');
    const head = await get(good, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(f.bytes);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    expect((await get(good, { method: 'DELETE' })).status).toBe(405);
    expect((await get('/media/files', { method: 'GET' })).status).toBe(405);
  });

  it.runIf(run)('plays audio and video inline, with byte ranges for seeking', async () => {
    const video = ftyp('isom');
    const f = await uploadOk(video, 'clip.mp4');
    expect(f).toMatchObject({ contentType: 'video/mp4', kind: 'video' });
    const full = await get(signed(f.id));
    expect(full.headers.get('content-disposition')).toMatch(/^inline; /);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const part = await get(signed(f.id), { headers: { range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-11/${video.length}`);
    expect((await bytesOf(part)).toString('latin1')).toBe('ftypisom');
    const tail = await get(signed(f.id), { headers: { range: 'bytes=-8' } });
    expect((await bytesOf(tail)).equals(video.subarray(-8))).toBe(true);
    expect((await get(signed(f.id), { headers: { range: `bytes=${video.length}-` } })).status).toBe(416);
    const song = await uploadOk(Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00 music', 'latin1'), 'song.mp3');
    const res = await get(signed(song.id));
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(res.headers.get('content-disposition')).toMatch(/^inline; /);
  });

  it.runIf(run)('claims uploads all or nothing, only the uploader\'s own and only for one thing', async () => {
    const mine = await uploadOk(Buffer.from('one'), 'one.txt');
    const mine2 = await uploadOk(await png(64, 64), 'two.png');
    const mikes = await uploadOk(Buffer.from('mike'), 'mike.txt', 'mike');
    const post = 'community:c1:circle:s1:post:p1';

    const stolen = await refusal(media().claimFiles({ uploadIds: [mine.id, mikes.id], userId: ids.olga!, usedBy: post }));
    expect(stolen.code).toBe('BAD_USER_INPUT');
    expect(stolen.details.field).toBe('attachments');
    expect(stolen.message).toMatch(/upload it again/);
    // Nothing was claimed by the refused call: mine is still free for another post.
    const claimed = await media().claimFiles({ uploadIds: [mine2.id, mine.id], userId: ids.olga!, usedBy: post });
    expect(claimed.map((f) => f.id)).toEqual([mine2.id, mine.id]);
    expect(claimed[0]).toEqual({ id: mine2.id, name: 'two.png', contentType: 'image/webp', kind: 'image', bytes: mine2.bytes, width: 64, height: 64, hasThumb: true, ownerId: ids.olga });
    expect(claimed[1]).toMatchObject({ name: 'one.txt', contentType: 'text/plain', kind: 'text', width: null, height: null, hasThumb: false });

    // An edit of the same post may claim them again; another post may not take them.
    expect((await media().claimFiles({ uploadIds: [mine.id], userId: ids.olga!, usedBy: post })).map((f) => f.id)).toEqual([mine.id]);
    expect((await refusal(media().claimFiles({ uploadIds: [mine.id], userId: ids.olga!, usedBy: 'community:c1:circle:s1:post:p2' }))).code).toBe('BAD_USER_INPUT');
    expect((await refusal(media().claimFiles({ uploadIds: ['00000000-0000-4000-8000-000000000000'], userId: ids.olga!, usedBy: post }))).code).toBe('BAD_USER_INPUT');
    expect((await refusal(media().claimFiles({ uploadIds: ['not-an-id'], userId: ids.olga!, usedBy: post }))).code).toBe('BAD_USER_INPUT');
    expect((await refusal(media().claimFiles({ uploadIds: [mine.id, mine.id], userId: ids.olga!, usedBy: post }))).code).toBe('BAD_USER_INPUT');
    const many = Array.from({ length: 21 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect((await refusal(media().claimFiles({ uploadIds: many, userId: ids.olga!, usedBy: post }))).message).toMatch(/at most 20/);
    expect(await media().claimFiles({ uploadIds: [], userId: ids.olga!, usedBy: post })).toEqual([]);

    // Released files are gone: record and bytes.
    const link = signed(mine.id);
    expect((await get(link)).status).toBe(200);
    expect(await media().releaseFiles({ fileIds: [mine.id, mikes.id, 'junk', '00000000-0000-4000-8000-000000000000'] })).toBe(2);
    expect((await get(link)).status).toBe(404);
    expect(await p.infra.objects.get(`files/${mine.id}/original`)).toBeNull();
    expect(await media().releaseFiles({ fileIds: [mine.id] })).toBe(0);
    expect((await get(signed(mine2.id, 'thumb'))).status).toBe(200);
  });

  it.runIf(run)('deleting a community or a circle releases the files its posts used', async () => {
    const c = (await p.gql(`mutation { createCommunity(input: { name: "Attachments", slug: "attachments" }) { id } }`, {}, { token: tokens.rita })).data.createCommunity;
    const keep = (await p.gql(`mutation { createCommunity(input: { name: "Keepers", slug: "keepers" }) { id } }`, {}, { token: tokens.rita })).data.createCommunity;
    const circle = (await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Files" }) { id } }`, { c: c.id }, { token: tokens.rita })).data.createCircle;
    const other = (await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Other" }) { id } }`, { c: c.id }, { token: tokens.rita })).data.createCircle;
    const up = () => uploadOk(Buffer.from(`attachment ${Math.random()}`), 'a.txt', 'rita');
    const [inCircle, inOther, inCenter, elsewhere] = [await up(), await up(), await up(), await up()];
    await media().claimFiles({ uploadIds: [inCircle.id], userId: ids.rita!, usedBy: `community:${c.id}:circle:${circle.id}:post:p1` });
    await media().claimFiles({ uploadIds: [inOther.id], userId: ids.rita!, usedBy: `community:${c.id}:circle:${other.id}:post:p2` });
    await media().claimFiles({ uploadIds: [inCenter.id], userId: ids.rita!, usedBy: `community:${c.id}:space:center:post:p3` });
    await media().claimFiles({ uploadIds: [elsewhere.id], userId: ids.rita!, usedBy: `community:${keep.id}:space:center:post:p4` });
    const gone = async (id: string) => {
      const deadline = Date.now() + 15_000;
      while ((await get(signed(id))).status !== 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return (await get(signed(id))).status === 404;
    };

    const del = await p.gql(`mutation($id: ID!) { deleteCircle(id: $id, confirmName: "Files") }`, { id: circle.id }, { token: tokens.rita });
    expect(del.errors).toBeUndefined();
    expect(await gone(inCircle.id)).toBe(true);
    expect((await get(signed(inOther.id))).status).toBe(200);

    await p.gql(`mutation($id: ID!) { deleteCommunity(id: $id, confirmSlug: "attachments") }`, { id: c.id }, { token: tokens.rita });
    expect(await gone(inOther.id)).toBe(true);
    expect(await gone(inCenter.id)).toBe(true);
    expect((await get(signed(elsewhere.id))).status).toBe(200);
  });

  it.runIf(run)('sweeps files nobody attached after a day, and keeps attached ones', async () => {
    const unused = await uploadOk(Buffer.from('unused'), 'u.txt');
    const used = await uploadOk(Buffer.from('used'), 'used.txt');
    await media().claimFiles({ uploadIds: [used.id], userId: ids.olga!, usedBy: 'community:x:space:y:post:z' });
    const svc = new MediaService({ config: p.host.config, db: p.infra.database!.db, objects: p.infra.objects, limits: p.infra.limits, urls: signer } as unknown as ServiceDeps);
    expect(await svc.sweepUnclaimed(new Date())).toBe(0);
    expect(await svc.sweepUnclaimed(new Date(Date.now() + 25 * 3_600_000))).toBeGreaterThan(0);
    expect((await get(signed(unused.id))).status).toBe(404);
    expect((await get(signed(used.id))).status).toBe(200);
  });

  it.runIf(run)('needs a signed-in uploader', async () => {
    const res = await upload(new Uint8Array(Buffer.from('hi')));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
  });

  it.runIf(run)('limits how many files one person uploads, apart from images', async () => {
    let limited: Response | null = null;
    let accepted = 0;
    for (let i = 0; i < 70 && !limited; i++) {
      const res = await upload(new Uint8Array(Buffer.from(`note ${i}`)), { token: tokens.mike, name: 'n.txt' });
      if (res.status === 429) limited = res;
      else {
        expect(res.status).toBe(201);
        accepted++;
      }
    }
    expect(limited?.status).toBe(429);
    expect(accepted).toBeLessThanOrEqual(60);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect((await upload(new Uint8Array(Buffer.from('x')), { token: tokens.rita })).status).toBe(201); // others are unaffected
    const image = await fetch(`${p.url}/media/images?purpose=COMMUNITY_AVATAR`, { method: 'POST', headers: { authorization: `Bearer ${tokens.mike}` }, body: new Uint8Array(await png(32, 32)) });
    expect(image.status).toBe(201); // the image budget is separate
  });
});
