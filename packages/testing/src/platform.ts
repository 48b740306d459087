import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '@circles/platform';
import { startCircles } from '@circles/server/embedded';
import { type Gql, gqlClient } from './client.ts';
import { freshPglite, freshPostgres } from './databases.ts';
import { REDIS_URL } from './services.ts';
import { startLocalS3 } from './s3.ts';
import { Redis } from 'ioredis';

export type Mode = 'embedded' | 'distributed';
export const modes: Mode[] = ['embedded', 'distributed'];

export interface TestPlatform {
  mode: Mode;
  url: string;
  /** The PostgreSQL test database (distributed mode only). */
  databaseUrl?: string;
  gql: Gql;
  host: Awaited<ReturnType<typeof startCircles>>['host'];
  infra: Awaited<ReturnType<typeof startCircles>>['infra'];
  /** Mail the instance sent (embedded outbox), newest first. */
  mail(): Promise<{ to: string; subject: string; text: string }[]>;
  stop(): Promise<void>;
}

/**
 * Starts Circles for a test: 'embedded' on a fresh PGlite with in-process infrastructure, 'distributed' on a fresh
 * database in the real PostgreSQL with Redis (keys under a unique prefix). Same services, same gateway.
 */
export async function startTestPlatform(mode: Mode, overrides: Partial<ConfigInput> = {}, env: Record<string, string> = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'circles-test-'));
  const pgdb = mode === 'distributed' ? await freshPostgres() : null;
  const database = pgdb ? await pgdb.open() : await freshPglite();
  const prefix = `circles-test:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
  // Distributed mode runs on PostgreSQL, Redis and an S3-compatible store, as a scaled-out deployment does.
  const s3 = mode === 'distributed' ? await startLocalS3() : null;
  const circles = await startCircles({
    dataDir,
    web: false,
    database,
    env: { TRUST_PROXY: 'true', ...(mode === 'distributed' ? { REDIS_URL, REDIS_PREFIX: prefix, DATABASE_URL: pgdb!.url, ...s3!.env } : {}), ...env },
    overrides,
  });
  return {
    mode,
    url: circles.gatewayUrl,
    databaseUrl: pgdb?.url,
    gql: gqlClient(circles.gatewayUrl),
    host: circles.host,
    infra: circles.infra,
    async mail() {
      return (await circles.infra.mailer!.listOutbox({ limit: 100 })).map((m) => ({ to: m.to, subject: m.subject, text: m.text }));
    },
    async stop() {
      await circles.stop();
      await s3?.stop();
      await pgdb?.drop();
      if (mode === 'distributed') await deleteRedisPrefix(prefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The token in the newest mailed link to `path` for `to`. */
export async function tokenFromMail(p: TestPlatform, to: string, linkPath: '/verify-email' | '/reset-password'): Promise<string> {
  const mail = (await p.mail()).find((m) => m.to === to && m.text.includes(linkPath));
  if (!mail) throw new Error(`no mail to ${to} with a ${linkPath} link`);
  const m = new RegExp(`${linkPath}\\?token=([\\w%-]+)`).exec(mail.text);
  return decodeURIComponent(m![1]!);
}

/** Removes a test run's keys so Redis does not accumulate them across runs. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
