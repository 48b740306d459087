import {
  badInput,
  fileUrlPath,
  type FileVariant,
  type Identity,
  type ImagePurpose,
  type MediaFile,
  type MediaImage,
  type ObjectStore,
  type ServiceDeps,
  signedUrlExpiry,
  type StoredObject,
} from '@circles/platform';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { mediaErrors } from './errors.ts';
import { detectFileType, safeFileName } from './files.ts';
import { encodeWebp, processImage, sniffImageType, type Variant } from './images.ts';
import { type FileRow, type FileVariantRow, type ImageRow, type MediaDb, MediaRepository } from './repo.ts';

export const UPLOAD_PATH = '/media/images';
export const FILE_UPLOAD_PATH = '/media/files';
const UNCLAIMED_TTL_MS = 24 * 3_600_000;
/** How long the uploader's own preview link (in the upload's answer) stays valid. */
const PREVIEW_TTL_MS = 15 * 60_000;
/** The most files one claim attaches (a post's attachments). */
export const MAX_FILES_PER_CLAIM = 20;
/** Attached images: shown at most this large, and as a thumbnail; both keep the picture's shape. */
const fileImageSizes = [
  { name: 'main', width: 2048, height: 2048, fit: 'inside' as const },
  { name: 'thumb', width: 480, height: 480, fit: 'inside' as const },
];

const objectKey = (imageId: string, variant: string) => `images/${imageId}/${variant}.webp`;
export const imageUrl = (imageId: string, variant = 'main') => `${UPLOAD_PATH}/${imageId}/${variant}.webp`;
/** Storage keys of files come from their id only: the uploader's file name never reaches storage. */
const fileKey = (fileId: string, variant: FileVariant) => `files/${fileId}/${variant}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function toMediaFile(row: FileRow): MediaFile {
  return {
    id: row.id,
    name: row.name,
    contentType: row.content_type,
    kind: row.kind,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    hasThumb: row.variants.some((v) => v.name === 'thumb'),
    ownerId: row.owner_id,
  };
}

/** Uploads, stored sizes and their lifecycle. Routes and resolvers only translate. */
export class MediaService {
  readonly repo: MediaRepository;
  private readonly objects: ObjectStore;
  private readonly uploads;
  private readonly fileUploads;

  constructor(private readonly deps: ServiceDeps) {
    this.repo = new MediaRepository(deps.db as MediaDb);
    this.objects = deps.objects;
    // Generous for people, tight for a script filling the disk: 30 images per user per 10 minutes.
    this.uploads = deps.limits.limiter({ name: 'media-upload', points: 30, windowMs: 600_000 });
    // Attachments have their own budget (a post may carry up to 20): 60 files per user per 10 minutes.
    this.fileUploads = deps.limits.limiter({ name: 'media-file-upload', points: 60, windowMs: 600_000 });
  }

  get maxUploadBytes(): number {
    return this.deps.config.mediaMaxUploadBytes;
  }

  get maxFileBytes(): number {
    return this.deps.config.mediaMaxFileBytes;
  }

  /** Checks who is uploading before the body is read, so a refused upload costs nothing. */
  async admit(identity: Identity, what: 'image' | 'file' = 'image'): Promise<string> {
    if (!identity.userId) throw mediaErrors.unauthenticated();
    const state = await (what === 'file' ? this.fileUploads : this.uploads).consume(identity.userId);
    if (!state.allowed) throw mediaErrors.rateLimited(Math.ceil(state.retryAfterMs / 1000));
    return identity.userId;
  }

  async uploadImage(userId: string, purpose: ImagePurpose, bytes: Buffer): Promise<ImageRow> {
    if (!bytes.length) throw mediaErrors.empty();
    const type = sniffImageType(bytes);
    if (!type) throw mediaErrors.unsupported();
    const { variants } = await processImage(bytes, purpose);
    const id = randomUUID();
    await Promise.all(variants.map((v) => this.objects.put(objectKey(id, v.name), v.data, { contentType: 'image/webp' })));
    try {
      return (await this.repo.insertImage({
        id,
        owner_id: userId,
        purpose,
        source_type: type,
        source_bytes: bytes.length,
        variants: variants.map(({ data: _, ...v }) => v),
      })) as ImageRow;
    } catch (err) {
      await this.deleteObjects(id, variants);
      throw err;
    }
  }

  /** One stored size of an image, or null. */
  async read(imageId: string, variant: string) {
    if (!/^[0-9a-f-]{36}$/.test(imageId) || !/^[a-z]{1,16}$/.test(variant)) return null;
    return this.objects.get(objectKey(imageId, variant));
  }

  async claimImage(input: { uploadId: string; userId: string; purpose: ImagePurpose; usedBy: string }): Promise<MediaImage> {
    const refused = () => badInput('That image upload was not found: upload it again.', 'uploadId');
    if (!/^[0-9a-f-]{36}$/.test(input.uploadId)) throw refused();
    const row = await this.repo.claim(input.uploadId, input.userId, input.purpose, input.usedBy);
    if (!row) throw refused();
    const main = (row.variants as Variant[])[0]!;
    return { id: row.id, url: imageUrl(row.id, main.name), width: main.width, height: main.height };
  }

  async releaseImage(imageId: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/.test(imageId)) return false;
    const row = await this.repo.deleteImage(imageId);
    if (!row) return false;
    await this.deleteObjects(row.id, row.variants as Variant[]);
    return true;
  }

  /** Everything a deleted community or circle used goes with it (driven by Community's events). */
  async releaseUsedBy(prefix: string, trx: Kysely<any>): Promise<number> {
    const rows = await this.repo.usedByPrefix(prefix, trx);
    for (const row of rows) {
      await trx.deleteFrom('media.images').where('id', '=', row.id).execute();
      await this.deleteObjects(row.id, row.variants as Variant[]);
    }
    // Files attached to posts in it ("community:<cid>:circle:<sid>:post:<pid>", "community:<cid>:space:<sid>:post:<pid>").
    const files = await this.repo.deleteFilesUsedByPrefix(prefix, trx);
    for (const row of files) await this.deleteFileObjects(row.id, row.variants);
    return rows.length + files.length;
  }

  /**
   * Stores a file attachment. Its type comes from the bytes; images are decoded and re-encoded to WebP (main and
   * thumb, metadata dropped, nothing of the original kept); everything else is kept byte for byte as `original`.
   */
  async uploadFile(userId: string, rawName: string | null, bytes: Buffer): Promise<FileRow> {
    if (!bytes.length) throw mediaErrors.empty();
    const type = detectFileType(bytes);
    const stored: (FileVariantRow & { data: Buffer })[] = type.image
      ? (await encodeWebp(bytes, fileImageSizes)).variants.map((v) => ({ name: v.name as FileVariant, bytes: v.bytes, contentType: 'image/webp', width: v.width, height: v.height, data: v.data }))
      : [{ name: 'original', bytes: bytes.length, contentType: type.contentType, data: bytes }];
    const main = stored[0]!;
    const id = randomUUID();
    await Promise.all(stored.map((v) => this.objects.put(fileKey(id, v.name), v.data, { contentType: v.contentType })));
    try {
      return await this.repo.insertFile({
        id,
        owner_id: userId,
        name: safeFileName(rawName),
        content_type: main.contentType,
        kind: type.kind,
        bytes: main.bytes,
        width: main.width ?? null,
        height: main.height ?? null,
        variants: stored.map(({ data: _, ...v }) => v),
      });
    } catch (err) {
      await this.deleteFileObjects(id, stored);
      throw err;
    }
  }

  /** Was this file path signed by a holder of the shared secret, and is the link still valid? */
  verifyLink(path: string, query: URLSearchParams): boolean {
    return this.deps.urls.verify(path, query);
  }

  /** A signed link to an image upload's thumbnail, for the uploader's composer; null for other files. */
  previewUrl(row: FileRow): string | null {
    if (!row.variants.some((v) => v.name === 'thumb')) return null;
    return this.deps.urls.sign(fileUrlPath(row.id, 'thumb'), signedUrlExpiry(PREVIEW_TTL_MS));
  }

  /**
   * One stored form of a file with its record, or null. 'original' of an image is its re-encoded main size (no
   * original is kept). The caller has checked the signed URL.
   */
  async readFile(fileId: string, variant: FileVariant): Promise<{ row: FileRow; variant: FileVariantRow; object: StoredObject } | null> {
    if (!UUID.test(fileId)) return null;
    const row = await this.repo.file(fileId);
    if (!row) return null;
    const v = row.variants.find((x) => x.name === variant) ?? (variant === 'original' ? row.variants.find((x) => x.name === 'main') : undefined);
    if (!v) return null;
    const object = await this.objects.get(fileKey(row.id, v.name));
    return object ? { row, variant: v, object } : null;
  }

  /**
   * Attaches uploads to `usedBy`, all or none: each must exist, be this user's, and be unclaimed or already used by
   * the same thing (an edit keeping its attachments). Answers in the order asked.
   */
  async claimFiles(input: { uploadIds: string[]; userId: string; usedBy: string }): Promise<MediaFile[]> {
    const refused = () => badInput('An attached file was not found: upload it again.', 'attachments');
    const ids = input.uploadIds;
    if (!ids.length) return [];
    if (ids.length > MAX_FILES_PER_CLAIM) throw badInput(`Attach at most ${MAX_FILES_PER_CLAIM} files.`, 'attachments');
    if (new Set(ids).size !== ids.length) throw badInput('Attach each file once.', 'attachments');
    if (!ids.every((id) => UUID.test(id))) throw refused();
    const rows = await this.repo.db.transaction().execute(async (trx) => {
      const found = await this.repo.filesForUpdate(trx, ids);
      if (found.length !== ids.length) throw refused();
      if (found.some((r) => r.owner_id !== input.userId || (r.used_by !== null && r.used_by !== input.usedBy))) throw refused();
      return this.repo.setFilesUsedBy(trx, ids, input.usedBy);
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => toMediaFile(byId.get(id)!));
  }

  /** Deletes the files' records and bytes; unknown ids are ignored. */
  async releaseFiles(fileIds: string[]): Promise<number> {
    const ids = [...new Set(fileIds)].filter((id) => UUID.test(id));
    if (!ids.length) return 0;
    const rows = await this.repo.deleteFiles(ids);
    for (const row of rows) await this.deleteFileObjects(row.id, row.variants);
    return rows.length;
  }

  /** Uploads nobody attached within a day are deleted. */
  async sweepUnclaimed(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - UNCLAIMED_TTL_MS);
    let swept = 0;
    for (;;) {
      const rows = await this.repo.unclaimedBefore(cutoff, 100);
      for (const row of rows) {
        if (await this.repo.deleteImage(row.id)) {
          await this.deleteObjects(row.id, row.variants as Variant[]);
          swept++;
        }
      }
      if (rows.length < 100) break;
    }
    for (;;) {
      const rows = await this.repo.unclaimedFilesBefore(cutoff, 100);
      // Only rows still unclaimed go: one claimed meanwhile is kept.
      const gone = rows.length ? await this.repo.db.deleteFrom('media.files').where('id', 'in', rows.map((r) => r.id)).where('used_by', 'is', null).returningAll().execute() : [];
      for (const row of gone) await this.deleteFileObjects(row.id, row.variants as FileVariantRow[]);
      swept += gone.length;
      if (rows.length < 100) return swept;
    }
  }

  private async deleteFileObjects(id: string, variants: Pick<FileVariantRow, 'name'>[]) {
    await Promise.all(variants.map((v) => this.objects.delete(fileKey(id, v.name))));
  }

  private async deleteObjects(id: string, variants: Pick<Variant, 'name'>[]) {
    await Promise.all(variants.map((v) => this.objects.delete(objectKey(id, v.name))));
  }
}
