/** Server-side: what the upload endpoint accepts, for pages with image fields. */
import { MediaLimitsDocument } from '@circles/client';
import type { MediaLimitsView } from '@/components/ImageUploadField';
import { serverClient } from '@/lib/server-api';

/** Null when the media service does not answer: the page still works, its image fields say uploads are unavailable. */
export async function loadMediaLimits(): Promise<MediaLimitsView | null> {
  try {
    return (await (await serverClient()).request(MediaLimitsDocument)).mediaLimits;
  } catch {
    return null;
  }
}
