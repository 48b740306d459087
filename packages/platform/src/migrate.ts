import { type Kysely, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import { lockKey } from './db.ts';

export type Migrations = Record<string, Migration>;

/**
 * Tables every service schema gets from the platform: the transactional outbox (events written in the same
 * transaction as the change) and the inbox (event ids a consumer has applied, for exactly-once effects).
 */
const platformMigrations = (schema: string): Migrations => ({
  '0000_platform_outbox_inbox': {
    async up(db) {
      await sql`create table ${sql.id(schema, 'outbox')} (
        seq bigserial primary key,
        id uuid not null unique,
        topic text not null,
        payload jsonb not null,
        occurred_at timestamptz not null default now()
      )`.execute(db);
      await sql`create table ${sql.id(schema, 'inbox')} (
        consumer text not null,
        event_id uuid not null,
        processed_at timestamptz not null default now(),
        primary key (consumer, event_id)
      )`.execute(db);
    },
  },
});

/**
 * Runs a schema's migrations at start-up. Idempotent (Kysely records applied ones in the schema's own
 * table) and safe when several processes start at once: a session advisory lock per schema serialises them,
 * and CREATE SCHEMA happens under that lock, where a bare IF NOT EXISTS would still race.
 */
export async function migrateSchema(db: Kysely<any>, schema: string, migrations: Migrations, opts: { withPlatformTables?: boolean } = {}): Promise<string[]> {
  const all: Migrations = { ...(opts.withPlatformTables === false ? {} : platformMigrations(schema)), ...migrations };
  return db.connection().execute(async (conn) => {
    const key = lockKey(`migrate:${schema}`);
    await sql`select pg_advisory_lock(${key})`.execute(conn);
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(conn);
      const migrator = new Migrator({
        db: conn,
        migrationTableSchema: schema,
        provider: { getMigrations: async () => all },
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(conn);
    }
  });
}
