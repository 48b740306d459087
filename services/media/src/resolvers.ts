import type { Resolvers } from '@circles/platform';
import { acceptedImageTypes } from './images.ts';
import { FILE_UPLOAD_PATH, type MediaService, UPLOAD_PATH } from './service.ts';

export function createMediaResolvers(svc: MediaService): Resolvers {
  return {
    Query: {
      mediaLimits: () => ({
        maxUploadBytes: svc.maxUploadBytes,
        imageTypes: acceptedImageTypes,
        imageUploadPath: UPLOAD_PATH,
        maxFileBytes: svc.maxFileBytes,
        fileUploadPath: FILE_UPLOAD_PATH,
      }),
    },
  };
}
