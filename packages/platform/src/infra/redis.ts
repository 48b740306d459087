import { Redis } from 'ioredis';

/** A Redis connection that fails fast instead of queueing commands forever while Redis is down. */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, { connectionName: `circles:${name}`, maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false });
}

export type { Redis };
