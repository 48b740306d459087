/** What the media routes answer when they refuse: an HTTP status, a stable code and a message for people. */
export class MediaHttpError extends Error {
  override readonly name = 'MediaHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${Math.floor(bytes / (1024 * 1024))} MB` : `${Math.floor(bytes / 1024)} KB`);

export const mediaErrors = {
  unauthenticated: () => new MediaHttpError(401, 'UNAUTHENTICATED', 'You need to log in to upload.'),
  badPurpose: () => new MediaHttpError(400, 'BAD_USER_INPUT', 'Say what the image is for: ?purpose=COMMUNITY_AVATAR, COMMUNITY_BANNER or CIRCLE_IMAGE.'),
  empty: () => new MediaHttpError(400, 'BAD_USER_INPUT', 'The upload is empty.'),
  tooLarge: (max: number) => new MediaHttpError(413, 'PAYLOAD_TOO_LARGE', `Images can be at most ${size(max)}.`),
  fileTooLarge: (max: number) => new MediaHttpError(413, 'PAYLOAD_TOO_LARGE', `Files can be at most ${size(max)}.`),
  badLink: () => new MediaHttpError(403, 'FORBIDDEN', 'This file link has expired or is not valid. Reload the page to get a new one.'),
  badRange: (size: number) => new MediaHttpError(416, 'RANGE_NOT_SATISFIABLE', 'That part of the file does not exist.', { 'content-range': `bytes */${size}` }),
  unsupported: () => new MediaHttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Upload a PNG, JPEG, GIF or WebP image.'),
  undecodable: () => new MediaHttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'That file is not a readable image.'),
  tooManyPixels: () => new MediaHttpError(413, 'PAYLOAD_TOO_LARGE', 'Images can be at most 40 megapixels.'),
  rateLimited: (retryAfterSeconds: number) =>
    new MediaHttpError(429, 'RATE_LIMITED', `Too many uploads. Try again in ${retryAfterSeconds} seconds.`, { 'retry-after': String(retryAfterSeconds) }),
  notFound: () => new MediaHttpError(404, 'NOT_FOUND', 'No such file.'),
  method: (allowed: string) => new MediaHttpError(405, 'METHOD_NOT_ALLOWED', `Use ${allowed}.`, { allow: allowed }),
};
