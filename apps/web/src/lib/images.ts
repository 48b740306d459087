/**
 * Image addresses and sizes. The media service stores each upload in fixed sizes (services/media/src/images.ts)
 * and the API hands out the main size's path; the smaller one sits beside it.
 */

export type ImagePurpose = 'COMMUNITY_AVATAR' | 'COMMUNITY_BANNER' | 'CIRCLE_IMAGE';

/** The stored sizes of each purpose, so pages can reserve the space before the image arrives. */
export const IMAGE_SIZES = {
  COMMUNITY_AVATAR: { main: { width: 512, height: 512 }, thumb: { width: 96, height: 96 } },
  COMMUNITY_BANNER: { main: { width: 1600, height: 400 }, thumb: { width: 640, height: 160 } },
  CIRCLE_IMAGE: { main: { width: 1200, height: 675 }, thumb: { width: 320, height: 180 } },
} as const satisfies Record<ImagePurpose, Record<'main' | 'thumb', { width: number; height: number }>>;

/** The small size of an image from its main size's path (`…/main.webp` -> `…/thumb.webp`). */
export function thumbUrl(mainUrl: string): string {
  return mainUrl.replace(/\/main\.webp$/, '/thumb.webp');
}

/** An absolute address for a path on this instance (OpenGraph and JSON-LD need absolute URLs). */
export function absoluteUrl(base: string, path: string): string {
  return new URL(path, `${base}/`).toString();
}

/** "2.4 MB", "800 KB": file sizes people read. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) {
    const mb = bytes / (1024 * 1024);
    return `${mb >= 10 || Number.isInteger(mb) ? Math.round(mb) : mb.toFixed(1)} MB`;
  }
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
