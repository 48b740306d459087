/** Server-side: what the upload endpoints accept, for pages with image fields or a post composer. */
import { cache } from 'react';
import { MediaLimitsDocument, type MediaLimitsQuery } from '@circles/client';
import type { MediaLimitsView } from '@/components/ImageUploadField';
import { serverClient } from '@/lib/server-api';

/** One call per request however many fields need it; null when the media service does not answer. */
const loadLimits = cache(async (): Promise<MediaLimitsQuery['mediaLimits'] | null> => {
  try {
    return (await (await serverClient()).request(MediaLimitsDocument)).mediaLimits;
  } catch {
    return null;
  }
});

/** Null when the media service does not answer: the page still works, its image fields say uploads are unavailable. */
export async function loadMediaLimits(): Promise<MediaLimitsView | null> {
  return loadLimits();
}

/** What a post's attachments may be: the largest file and where to send it. */
export interface FileLimitsView {
  maxFileBytes: number;
  fileUploadPath: string;
}

/** Null when the media service does not answer: the composer then offers no attachments. */
export async function loadFileLimits(): Promise<FileLimitsView | null> {
  const limits = await loadLimits();
  return limits ? { maxFileBytes: limits.maxFileBytes, fileUploadPath: limits.fileUploadPath } : null;
}
