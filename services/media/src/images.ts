import sharp from 'sharp';
import { mediaErrors } from './errors.ts';
import type { ImagePurpose } from '@circles/platform';

export type SourceType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
export const acceptedImageTypes: SourceType[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/**
 * The file's real type from its first bytes. Names and declared content types are ignored: a script renamed to
 * .png, an SVG (an active document a browser would run) or an HTML page are all refused here.
 */
export function sniffImageType(bytes: Buffer): SourceType | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 6 && (bytes.subarray(0, 6).toString('latin1') === 'GIF87a' || bytes.subarray(0, 6).toString('latin1') === 'GIF89a')) return 'image/gif';
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

export interface Variant {
  name: string;
  width: number;
  height: number;
  bytes: number;
}

/** The sizes each purpose is stored in: the first is the one pages show; the others are for small places. */
const sizes: Record<ImagePurpose, { name: string; width: number; height: number }[]> = {
  community_avatar: [
    { name: 'main', width: 512, height: 512 },
    { name: 'thumb', width: 96, height: 96 },
  ],
  community_banner: [
    { name: 'main', width: 1600, height: 400 },
    { name: 'thumb', width: 640, height: 160 },
  ],
  circle_image: [
    { name: 'main', width: 1200, height: 675 },
    { name: 'thumb', width: 320, height: 180 },
  ],
};

const MAX_PIXELS = 40_000_000;

/** A stored size: `cover` crops to exactly this box (avatars, banners); `inside` keeps the shape and never enlarges. */
export interface TargetSize {
  name: string;
  width: number;
  height: number;
  fit?: 'cover' | 'inside';
}

/**
 * Decodes the image and re-encodes every size as WebP. Re-encoding drops all metadata (EXIF with GPS position,
 * camera serials, XMP, comments) and anything appended to the file; orientation from EXIF is applied first so the
 * picture still faces the right way. Animated images keep their first frame.
 */
export function processImage(bytes: Buffer, purpose: ImagePurpose): Promise<{ variants: (Variant & { data: Buffer })[] }> {
  return encodeWebp(bytes, sizes[purpose]);
}

/** The same decoding, checks and re-encoding for any list of sizes (attachments use `inside` sizes). */
export async function encodeWebp(bytes: Buffer, targets: TargetSize[]): Promise<{ variants: (Variant & { data: Buffer })[] }> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).metadata();
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message)) throw mediaErrors.tooManyPixels();
    throw mediaErrors.undecodable();
  }
  if (!meta.width || !meta.height) throw mediaErrors.undecodable();
  if (meta.width * meta.height > MAX_PIXELS) throw mediaErrors.tooManyPixels();
  try {
    const variants = await Promise.all(
      targets.map(async (size) => {
        const inside = size.fit === 'inside';
        const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
          .rotate()
          .resize(size.width, size.height, inside ? { fit: 'inside', withoutEnlargement: true } : { fit: 'cover', position: 'attention', withoutEnlargement: false })
          .webp({ quality: 82 })
          .toBuffer({ resolveWithObject: true });
        return { name: size.name, width: info.width, height: info.height, bytes: data.length, data };
      }),
    );
    return { variants };
  } catch {
    throw mediaErrors.undecodable();
  }
}
