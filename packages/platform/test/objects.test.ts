import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type LocalS3, startLocalS3 } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskObjectStore, type ObjectStore, S3ObjectStore } from '../src/infra/objects.ts';

/**
 * The object-store contract, run against both implementations: local disk (embedded default) and S3 — here a
 * local s3rver, a real server speaking the S3 REST protocol, since AWS itself cannot be reached from this machine.
 */
describe.each(['disk', 's3'] as const)('object store contract (%s)', (kind) => {
  let store: ObjectStore;
  let s3: LocalS3 | null = null;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'circles-objects-'));
    if (kind === 'disk') {
      store = new DiskObjectStore(path.join(dir, 'objects'));
    } else {
      s3 = await startLocalS3('contract-bucket');
      const s = new S3ObjectStore({ endpoint: s3.endpoint, region: 'us-east-1', bucket: 'contract-bucket', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, prefix: 'inst-1/' });
      await s.ensureBucket();
      await s.ensureBucket(); // idempotent: an existing bucket is left alone
      store = s;
    }
  });
  afterAll(async () => {
    await store?.close();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores bytes exactly and returns them with their content type', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await store.put('images/a1/main.webp', bytes, { contentType: 'image/webp' });
    const got = await store.get('images/a1/main.webp');
    expect(got?.contentType).toBe('image/webp');
    expect(got?.size).toBe(bytes.length);
    expect(got?.body.equals(bytes)).toBe(true);
  });

  it('overwrites in place and deletes (deleting twice is fine); missing objects are null', async () => {
    await store.put('images/a2/main.webp', Buffer.from('one'), { contentType: 'image/webp' });
    await store.put('images/a2/main.webp', Buffer.from('two!'), { contentType: 'image/png' });
    expect((await store.get('images/a2/main.webp'))?.body.toString()).toBe('two!');
    expect((await store.get('images/a2/main.webp'))?.contentType).toBe('image/png');
    await store.delete('images/a2/main.webp');
    await store.delete('images/a2/main.webp');
    expect(await store.get('images/a2/main.webp')).toBeNull();
    expect(await store.get('images/never/main.webp')).toBeNull();
  });

  it('refuses keys that could escape the store or confuse it', async () => {
    for (const key of ['../etc/passwd', 'images/../../x', '/abs/path', 'images//x', 'a\\b', 'images/x y', '', '.hidden', 'images/%2e%2e/x']) {
      await expect(store.put(key, Buffer.from('x'), { contentType: 'text/plain' }), key).rejects.toThrow(/invalid object key/);
      await expect(store.get(key), key).rejects.toThrow(/invalid object key/);
    }
  });
});

describe('disk object store', () => {
  it('never leaves half-written files behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'circles-objects-'));
    const store = new DiskObjectStore(path.join(dir, 'objects'));
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('images/race/main.webp', Buffer.alloc(50_000, i), { contentType: 'image/webp' })));
      const got = await store.get('images/race/main.webp');
      expect(got?.size).toBe(50_000);
      expect(new Set(got!.body).size).toBe(1); // all bytes from one writer, never a mix
      expect(readdirSync(path.join(dir, 'objects/images/race')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
