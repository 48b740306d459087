import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from './log.ts';

/**
 * One code path for embedded and server PostgreSQL: Kysely's own PostgresDialect over a node-postgres Pool,
 * which for the embedded default is backed by PGlite. Result types are identical in both modes.
 */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Kysely<any>;
  close(): Promise<void>;
}

// node-postgres returns int8 as string by default; our counters fit in a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  log?: Logger;
  poolSize?: number;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    pool.on('error', (err) => opts.log?.error('postgres pool error', { err }));
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    await sql`select 1`.execute(db);
    return { kind: 'postgres', db, close: () => db.destroy() };
  }
  const dir = path.join(opts.dataDir, 'postgres');
  mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dir);
  return wrapPglite(pglite, true);
}

/** Wraps an open PGlite instance (tests pass one loaded from a dumped data dir to skip initdb). */
export function wrapPglite(pglite: PGlite, owned: boolean): Database {
  const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'pglite',
    db,
    close: async () => {
      await db.destroy();
      if (owned) await pglite.close();
    },
  };
}

/** Stable 31-bit key for pg_advisory_lock from a name. */
export function lockKey(name: string): number {
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h & 0x7fffffff;
}

export const isUniqueViolation = (err: unknown, constraint?: string): boolean =>
  typeof err === 'object' &&
  err !== null &&
  (err as { code?: string }).code === '23505' &&
  (constraint === undefined || (err as { constraint?: string }).constraint === constraint);
