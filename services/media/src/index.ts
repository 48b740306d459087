import { readFileSync } from 'node:fs';
import { defineService, type ImagePurpose, type MediaApi } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import { createMediaHttp } from './http.ts';
import { createMediaResolvers } from './resolvers.ts';
import { MediaService } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

const SWEEP_EVERY_MS = 3_600_000;

export const mediaService = defineService({
  name: 'media',
  typeDefs,
  migrations,
  create(deps) {
    const service = new MediaService(deps);
    const sweep = () =>
      service.sweepUnclaimed().then(
        (n) => n && deps.log.info('swept unclaimed uploads', { count: n }),
        (err) => deps.log.error('sweeping unclaimed uploads failed', { err }),
      );
    const timer = setInterval(sweep, SWEEP_EVERY_MS);
    timer.unref();
    return {
      resolvers: createMediaResolvers(service),
      http: createMediaHttp(service),
      api: {
        claimImage: (input: { uploadId: string; userId: string; purpose: ImagePurpose; usedBy: string }) => service.claimImage(input),
        releaseImage: ({ imageId }: { imageId: string }) => service.releaseImage(imageId),
        claimFiles: (input: { uploadIds: string[]; userId: string; usedBy: string }) => service.claimFiles(input),
        releaseFiles: ({ fileIds }: { fileIds: string[] }) => service.releaseFiles(fileIds),
      } satisfies MediaApi,
      eventHandlers: {
        // What a deleted community or circle used goes with it (usedBy is "community:<id>:…", circles' "community:<id>:circle:<id>",
        // posts' attachments "community:<id>:circle:<id>:post:<id>" or "community:<id>:space:<id>:post:<id>").
        'community.deleted': async (event, trx) => void (await service.releaseUsedBy(`community:${(event.payload as { communityId: string }).communityId}:`, trx)),
        'community.circle_deleted': async (event, trx) => {
          const { communityId, circleId } = event.payload as { communityId: string; circleId: string };
          await service.releaseUsedBy(`community:${communityId}:circle:${circleId}`, trx);
        },
      },
      async stop() {
        clearInterval(timer);
      },
    };
  },
});

export { MediaService } from './service.ts';
export { sniffImageType } from './images.ts';
export { detectFileType, safeFileName } from './files.ts';
export default mediaService;
