import { distributedServicesAvailable, freshPglite, freshPostgres } from '@circles/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db.ts';
import { type Migrations, migrateSchema } from '../src/migrate.ts';

const canRunPostgres = await distributedServicesAvailable();

const PLATFORM_MIGRATION = '0000_platform_outbox_inbox';

/**
 * Migrations that would fail if applied twice (CREATE TABLE) and record each application in a ledger outside the
 * schema, so "exactly once" is counted rather than inferred. The sleep keeps the first runner inside its
 * migrations long enough for the others to queue behind the lock.
 */
const ledgerMigrations = (schema: string, slowMs = 0): Migrations => ({
  '0001_things': {
    async up(db) {
      if (slowMs) await sql`select pg_sleep(${slowMs / 1000})`.execute(db);
      await sql`create table ${sql.id(schema, 'things')} (id int primary key)`.execute(db);
      await sql`insert into public.migration_ledger (schema_name, migration) values (${schema}, '0001_things')`.execute(db);
    },
  },
  '0002_more_things': {
    async up(db) {
      await sql`alter table ${sql.id(schema, 'things')} add column label text not null default ''`.execute(db);
      await sql`insert into public.migration_ledger (schema_name, migration) values (${schema}, '0002_more_things')`.execute(db);
    },
  },
});

const createLedger = (db: Kysely<any>) => sql`create table if not exists public.migration_ledger (schema_name text not null, migration text not null)`.execute(db);

async function ledger(db: Kysely<any>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ migration: string }>`select migration from public.migration_ledger where schema_name = ${schema} order by migration`.execute(db);
  return rows.map((r) => r.migration);
}

async function tablesOf(db: Kysely<any>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

describe.runIf(canRunPostgres)('migrateSchema on PostgreSQL', () => {
  let pgdb: Awaited<ReturnType<typeof freshPostgres>>;
  // Two pools, as two processes starting at once would have.
  let first: Database;
  let second: Database;
  beforeAll(async () => {
    pgdb = await freshPostgres();
    [first, second] = await Promise.all([pgdb.open(), pgdb.open()]);
    await createLedger(first.db);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await pgdb?.drop();
  });

  it('runs concurrently from two pools: all succeed and every migration is applied exactly once', async () => {
    const schema = 'svc_concurrent';
    const migrations = ledgerMigrations(schema, 300);
    const results = await Promise.all([
      migrateSchema(first.db, schema, migrations),
      migrateSchema(second.db, schema, migrations),
      migrateSchema(first.db, schema, migrations),
      migrateSchema(second.db, schema, migrations),
    ]);
    const all = [PLATFORM_MIGRATION, '0001_things', '0002_more_things'];
    // Exactly one runner applied them all; the others found nothing left to do.
    expect(results.filter((r) => r.length > 0)).toEqual([all]);
    expect(results.flat().sort()).toEqual(all);
    expect(await ledger(first.db, schema)).toEqual(['0001_things', '0002_more_things']);
    expect(await tablesOf(second.db, schema)).toEqual(expect.arrayContaining(['inbox', 'outbox', 'things']));

    // A later start is a no-op.
    expect(await migrateSchema(second.db, schema, migrations)).toEqual([]);
    expect(await migrateSchema(first.db, schema, migrations)).toEqual([]);
    expect(await ledger(first.db, schema)).toEqual(['0001_things', '0002_more_things']);
  });

  it('migrates different schemas at the same time independently', async () => {
    const [a, b] = await Promise.all([
      migrateSchema(first.db, 'svc_alpha', ledgerMigrations('svc_alpha', 200)),
      migrateSchema(second.db, 'svc_beta', ledgerMigrations('svc_beta', 200)),
    ]);
    expect(a).toEqual([PLATFORM_MIGRATION, '0001_things', '0002_more_things']);
    expect(b).toEqual([PLATFORM_MIGRATION, '0001_things', '0002_more_things']);
    expect(await ledger(first.db, 'svc_alpha')).toEqual(['0001_things', '0002_more_things']);
    expect(await ledger(first.db, 'svc_beta')).toEqual(['0001_things', '0002_more_things']);
  });

  it('a failing migration fails the start, applies nothing of itself, and releases the lock', async () => {
    const schema = 'svc_failing';
    const broken: Migrations = {
      ...ledgerMigrations(schema),
      '0003_broken': {
        async up(db) {
          await sql`insert into public.migration_ledger (schema_name, migration) values (${schema}, '0003_broken')`.execute(db);
          await sql`select * from no_such_table`.execute(db);
        },
      },
    };
    await expect(migrateSchema(first.db, schema, broken)).rejects.toThrow(/no_such_table/);
    expect(await ledger(first.db, schema)).not.toContain('0003_broken');
    // The advisory lock was released: another pool can take it and finish with a fixed migration.
    const fixed: Migrations = { ...ledgerMigrations(schema), '0003_broken': { up: async () => {} } };
    const applied = await migrateSchema(second.db, schema, fixed);
    expect(applied).toContain('0003_broken');
    expect(await migrateSchema(first.db, schema, fixed)).toEqual([]);
  });
});

describe('migrateSchema on PGlite', () => {
  let database: Database;
  beforeAll(async () => {
    database = await freshPglite();
    await createLedger(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('adds the platform outbox and inbox, is idempotent, and applies only migrations added later', async () => {
    const schema = 'svc_embedded';
    const migrations = ledgerMigrations(schema);
    expect(await migrateSchema(database.db, schema, migrations)).toEqual([PLATFORM_MIGRATION, '0001_things', '0002_more_things']);
    expect(await tablesOf(database.db, schema)).toEqual(expect.arrayContaining(['inbox', 'outbox', 'things']));
    expect(await migrateSchema(database.db, schema, migrations)).toEqual([]);
    expect(await ledger(database.db, schema)).toEqual(['0001_things', '0002_more_things']);

    const later: Migrations = {
      ...migrations,
      '0003_index': {
        async up(db) {
          await sql`create index on ${sql.id(schema, 'things')} (label)`.execute(db);
          await sql`insert into public.migration_ledger (schema_name, migration) values (${schema}, '0003_index')`.execute(db);
        },
      },
    };
    expect(await migrateSchema(database.db, schema, later)).toEqual(['0003_index']);
    expect(await migrateSchema(database.db, schema, later)).toEqual([]);
    expect(await ledger(database.db, schema)).toEqual(['0001_things', '0002_more_things', '0003_index']);
  });

  it('leaves out the platform tables when asked (the event log\'s own schema)', async () => {
    expect(await migrateSchema(database.db, 'svc_bare', {}, { withPlatformTables: false })).toEqual([]);
    expect(await tablesOf(database.db, 'svc_bare')).not.toContain('outbox');
  });
});
