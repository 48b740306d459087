import { badInput, type Identity, type ImagePurpose, type MediaImage, type ObjectStore, type ServiceDeps } from '@circles/platform';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { mediaErrors } from './errors.ts';
import { processImage, sniffImageType, type Variant } from './images.ts';
import { type ImageRow, type MediaDb, MediaRepository } from './repo.ts';

export const UPLOAD_PATH = '/media/images';
const UNCLAIMED_TTL_MS = 24 * 3_600_000;

const objectKey = (imageId: string, variant: string) => `images/${imageId}/${variant}.webp`;
export const imageUrl = (imageId: string, variant = 'main') => `${UPLOAD_PATH}/${imageId}/${variant}.webp`;

/** Uploads, stored sizes and their lifecycle. Routes and resolvers only translate. */
export class MediaService {
  readonly repo: MediaRepository;
  private readonly objects: ObjectStore;
  private readonly uploads;

  constructor(private readonly deps: ServiceDeps) {
    this.repo = new MediaRepository(deps.db as MediaDb);
    this.objects = deps.objects;
    // Generous for people, tight for a script filling the disk: 30 images per user per 10 minutes.
    this.uploads = deps.limits.limiter({ name: 'media-upload', points: 30, windowMs: 600_000 });
  }

  get maxUploadBytes(): number {
    return this.deps.config.mediaMaxUploadBytes;
  }

  /** Checks who is uploading before the body is read, so a refused upload costs nothing. */
  async admit(identity: Identity): Promise<string> {
    if (!identity.userId) throw mediaErrors.unauthenticated();
    const state = await this.uploads.consume(identity.userId);
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
    return rows.length;
  }

  /** Uploads nobody attached within a day are deleted. */
  async sweepUnclaimed(now = new Date()): Promise<number> {
    let swept = 0;
    for (;;) {
      const rows = await this.repo.unclaimedBefore(new Date(now.getTime() - UNCLAIMED_TTL_MS), 100);
      for (const row of rows) {
        if (await this.repo.deleteImage(row.id)) {
          await this.deleteObjects(row.id, row.variants as Variant[]);
          swept++;
        }
      }
      if (rows.length < 100) return swept;
    }
  }

  private async deleteObjects(id: string, variants: Pick<Variant, 'name'>[]) {
    await Promise.all(variants.map((v) => this.objects.delete(objectKey(id, v.name))));
  }
}
