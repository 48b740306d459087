import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError, isDistributed } from '../config.ts';
import { type Database, openDatabase } from '../db.ts';
import { RedisEventLog } from '../events/redis-log.ts';
import { SqlEventLog } from '../events/sql-log.ts';
import type { EventLog } from '../events/types.ts';
import type { Logger } from '../log.ts';
import { type Mailer, OutboxMailer, SmtpMailer } from '../mail.ts';
import { SessionManager } from '../sessions.ts';
import { type Cache, MemoryCache, RedisCache } from './cache.ts';
import { MemoryPubSub, type PubSub, RedisPubSub } from './pubsub.ts';
import { MemoryPresenceStore, type PresenceStore, RedisPresenceStore } from './presence.ts';
import { MemoryRateLimiterFactory, type RateLimiterFactory, RedisRateLimiterFactory } from './ratelimit.ts';
import { connectRedis, type Redis } from './redis.ts';
import { DiskObjectStore, type ObjectStore, S3ObjectStore } from './objects.ts';
import { MemorySessionStore, RedisSessionStore, type SessionStore } from './sessions.ts';

/** The infrastructure a process runs on. This is the one place that picks implementations from config. */
export interface Infrastructure {
  /** Absent in processes that run no service (a gateway-only process). */
  database: Database | null;
  cache: Cache;
  pubsub: PubSub;
  /** Who is connected to which node (chat presence). */
  presence: PresenceStore;
  limits: RateLimiterFactory;
  sessionStore: SessionStore;
  sessions: SessionManager;
  eventLog: EventLog;
  mailer: Mailer | null;
  /** Media bytes: S3 when S3_BUCKET is set, else DATA_DIR/objects. */
  objects: ObjectStore;
  gatewaySecret: string;
  close(): Promise<void>;
}

export interface InfrastructureOptions {
  /** false: this process runs no service and needs no database. A Database: use it (tests inject one). */
  database?: boolean | Database;
}

export async function createInfrastructure(config: Config, log: Logger, opts: InfrastructureOptions = {}): Promise<Infrastructure> {
  const gatewaySecret = resolveGatewaySecret(config);
  const wantDb = opts.database ?? true;
  if (wantDb === false && !config.redisUrl) throw new ConfigError('Invalid configuration:\n  REDIS_URL: required for a process without a database');
  const database =
    typeof wantDb === 'object' ? wantDb : wantDb ? await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log }) : null;
  const redisConns: Redis[] = [];
  const redis = (name: string) => {
    const c = connectRedis(config.redisUrl!, name);
    c.on('error', (err) => log.warn('redis connection error', { conn: name, err }));
    redisConns.push(c);
    return c;
  };

  let cache: Cache, pubsub: PubSub, presence: PresenceStore, limits: RateLimiterFactory, sessionStore: SessionStore, eventLog: EventLog;
  if (config.redisUrl) {
    const main = redis('main');
    const p = config.redisPrefix;
    cache = new RedisCache(main, `${p}cache:`);
    pubsub = new RedisPubSub(main, redis('subscriber'), `${p}ps:`);
    presence = new RedisPresenceStore(main, `${p}presence:`);
    limits = new RedisRateLimiterFactory(main, `${p}rl:`);
    sessionStore = new RedisSessionStore(main, `${p}sess:`);
    eventLog = new RedisEventLog(main, log, { stream: `${p}events` });
  } else {
    cache = new MemoryCache();
    pubsub = new MemoryPubSub();
    presence = new MemoryPresenceStore();
    limits = new MemoryRateLimiterFactory();
    sessionStore = new MemorySessionStore(path.join(config.dataDir, 'sessions.json'));
    eventLog = await SqlEventLog.open(database!.db, log);
  }
  // A process without a database runs no service, and only services send mail.
  const mailer: Mailer | null = config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.mailFrom) : database ? await OutboxMailer.open(database.db) : null;
  const objects = await createObjectStore(config);
  const sessions = new SessionManager(sessionStore, { idleTimeoutMs: config.sessionIdleTimeout, absoluteTimeoutMs: config.sessionAbsoluteTimeout });

  return {
    database,
    cache,
    pubsub,
    presence,
    limits,
    sessionStore,
    sessions,
    eventLog,
    mailer,
    objects,
    gatewaySecret,
    async close() {
      await objects.close();
      await eventLog.close();
      await pubsub.close();
      await sessionStore.close();
      await database?.close();
      for (const c of redisConns) c.disconnect();
    },
  };
}

async function createObjectStore(config: Config): Promise<ObjectStore> {
  if (!config.s3Bucket) return new DiskObjectStore(path.join(config.dataDir, 'objects'));
  const store = new S3ObjectStore({
    bucket: config.s3Bucket,
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
    prefix: config.s3Prefix,
  });
  await store.ensureBucket();
  return store;
}

/**
 * The secret the gateway signs identities with. Separate processes must share it, so distributed mode requires
 * it to be configured; the embedded default generates one once and keeps it in the data folder.
 */
export function resolveGatewaySecret(config: Config): string {
  if (config.gatewaySecret) return config.gatewaySecret;
  if (isDistributed(config) || config.env === 'production') {
    throw new ConfigError('Invalid configuration:\n  GATEWAY_SECRET: required when services run in separate processes or in production (at least 32 characters)');
  }
  const file = path.join(config.dataDir, 'gateway-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(config.dataDir, { recursive: true });
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return readFileSync(file, 'utf8').trim();
  }
}
