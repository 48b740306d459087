import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** What is stored beside an object's bytes. */
export interface ObjectMeta {
  contentType: string;
}

export interface StoredObject extends ObjectMeta {
  body: Buffer;
  size: number;
}

/**
 * Where media bytes live: a folder on local disk (embedded default) or an S3-compatible bucket (distributed).
 * Keys are slash-separated paths of [A-Za-z0-9._-] segments; anything else is refused before touching storage.
 */
export interface ObjectStore {
  readonly kind: 'disk' | 's3';
  put(key: string, body: Buffer, meta: ObjectMeta): Promise<void>;
  /** Null when there is no such object. */
  get(key: string): Promise<StoredObject | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

const KEY = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,7}$/;

export function assertObjectKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid object key: ${JSON.stringify(key).slice(0, 80)}`);
}

/**
 * Objects as files under one folder, each with a small JSON sidecar for its content type. Writes go to a temporary
 * file first and are renamed into place, so a reader never sees half an object.
 */
export class DiskObjectStore implements ObjectStore {
  readonly kind = 'disk' as const;
  constructor(private readonly root: string) {}

  private file(key: string): string {
    assertObjectKey(key);
    const file = path.resolve(this.root, key);
    if (!file.startsWith(path.resolve(this.root) + path.sep)) throw new Error('invalid object key');
    return file;
  }

  async put(key: string, body: Buffer, meta: ObjectMeta): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(`${tmp}.meta`, JSON.stringify({ contentType: meta.contentType }));
    await writeFile(tmp, body);
    await rename(`${tmp}.meta`, `${file}.meta.json`);
    await rename(tmp, file);
  }

  async get(key: string): Promise<StoredObject | null> {
    const file = this.file(key);
    try {
      const [body, meta] = await Promise.all([readFile(file), readFile(`${file}.meta.json`, 'utf8')]);
      const { contentType } = JSON.parse(meta) as ObjectMeta;
      return { body, size: body.length, contentType };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.file(key);
    await rm(file, { force: true });
    await rm(`${file}.meta.json`, { force: true });
  }

  async close(): Promise<void> {}
}

export interface S3Options {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (bucket in the path): what MinIO, s3rver and most self-hosted stores need. */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket, so several instances can share one. */
  prefix?: string;
}

/** Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, s3rver), through AWS SDK v3. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly opts: S3Options) {
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
    });
    this.prefix = opts.prefix ?? '';
  }

  /** Creates the bucket when it does not exist yet (self-hosted stores start empty). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw err;
      await this.client.send(new CreateBucketCommand({ Bucket: this.opts.bucket }));
    }
  }

  private key(key: string): string {
    assertObjectKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Buffer, meta: ObjectMeta): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), Body: body, ContentType: meta.contentType, ContentLength: body.length }));
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      return { body, size: body.length, contentType: out.ContentType ?? 'application/octet-stream' };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
