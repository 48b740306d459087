'use client';
/**
 * Uploading to the media routes (POST /media/images?purpose=… for images, POST /media/files?name=… for post
 * attachments; the raw bytes as the body). It goes through
 * XMLHttpRequest rather than fetch because only XHR reports upload progress. Failures become `ClientError`s with
 * the server's code and message, so `describeError` turns them into words like any other API error.
 */
import { ClientError, CSRF_HEADER } from '@circles/client';
import type { ImagePurpose } from '@/lib/images';

export interface UploadedImage {
  id: string;
  url: string;
  variants: Record<string, { url: string; width: number; height: number }>;
}

export interface UploadHandle {
  done: Promise<UploadedImage>;
  /** Stops the transfer; `done` rejects with code ABORTED. */
  abort(): void;
}

/** The media route answers `{ error: { code, message } }`; the gateway's own refusals (CSRF) use GraphQL's shape. */
function errorFrom(status: number, body: string, retryAfter: string | null): ClientError {
  let code = 'BAD_RESPONSE';
  let message = '';
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown }; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
    const error = parsed.error ?? (parsed.errors?.[0] ? { code: parsed.errors[0].extensions?.code, message: parsed.errors[0].message } : undefined);
    if (typeof error?.code === 'string') code = error.code;
    if (typeof error?.message === 'string') message = error.message;
  } catch {
    // Not JSON (a proxy's error page): the status alone says what kind of failure it was.
    if (status === 413) code = 'PAYLOAD_TOO_LARGE';
  }
  const seconds = retryAfter ? Number(retryAfter) : NaN;
  return new ClientError({ code, message, status, retryAfterSeconds: Number.isFinite(seconds) ? seconds : undefined });
}

/**
 * POSTs `file`'s bytes to `url` and resolves with the 201 answer's JSON. `onProgress` gets the share of bytes sent,
 * 0 to 1.
 */
function sendBytes<T>(url: string, file: Blob, onProgress: (fraction: number) => void): { done: Promise<T>; abort(): void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<T>((resolve, reject) => {
    xhr.open('POST', url);
    // The session cookie rides along (same origin); the header is the gateway's CSRF guard for cookie requests.
    xhr.setRequestHeader(CSRF_HEADER, '1');
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status === 201) {
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch {
          reject(new ClientError({ code: 'BAD_RESPONSE', message: '', status: xhr.status }));
        }
        return;
      }
      reject(errorFrom(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after')));
    };
    xhr.onerror = () => reject(new ClientError({ code: 'NETWORK_ERROR', message: '' }));
    xhr.onabort = () => reject(new ClientError({ code: 'ABORTED', message: '' }));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/**
 * Sends `file` for `purpose` to `uploadPath` (from mediaLimits). `onProgress` gets the share of bytes sent, 0 to 1;
 * once everything is sent the server still decodes and re-encodes the image before it answers.
 */
export function uploadImage(uploadPath: string, purpose: ImagePurpose, file: Blob, onProgress: (fraction: number) => void): UploadHandle {
  return sendBytes<UploadedImage>(`${uploadPath}?purpose=${purpose}`, file, onProgress);
}

/** What POST /media/files answers: the stored file (its id goes into a post's attachments). */
export interface UploadedFile {
  id: string;
  name: string;
  contentType: string;
  /** Lower case: image, video, audio, document, archive, text, other. */
  kind: string;
  bytes: number;
  width: number | null;
  height: number | null;
  /** A short-lived link to an image's thumbnail, for the composer; null for other files. */
  previewUrl: string | null;
}

/**
 * Sends a post attachment to `uploadPath` (mediaLimits.fileUploadPath) under its file name. Images are re-encoded
 * after the last byte arrives, so there may be a pause between 100% and the answer.
 */
export function uploadFile(uploadPath: string, file: File, onProgress: (fraction: number) => void): { done: Promise<UploadedFile>; abort(): void } {
  return sendBytes<UploadedFile>(`${uploadPath}?name=${encodeURIComponent(file.name)}`, file, onProgress);
}
