import type { ServiceDefinition, ServiceName } from '@circles/platform';

/**
 * Every domain service, imported lazily so a process loads only the services it runs. Adding a service is one
 * line here plus its name in `serviceNames` (packages/platform/src/config.ts).
 */
export const serviceRegistry: Record<ServiceName, () => Promise<ServiceDefinition>> = {
  auth: async () => (await import('@circles/auth')).authService,
  community: async () => (await import('@circles/community')).communityService,
  media: async () => (await import('@circles/media')).mediaService,
  posts: async () => (await import('@circles/posts')).postsService,
  chat: async () => (await import('@circles/chat')).chatService,
  payments: async () => (await import('@circles/payments')).paymentsService,
};

export async function loadServices(names: readonly ServiceName[]): Promise<ServiceDefinition[]> {
  return Promise.all(names.map((n) => serviceRegistry[n]()));
}
