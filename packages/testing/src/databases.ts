import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Database, openDatabase, wrapPglite } from '@circles/platform';
import pg from 'pg';
import { PG_URL } from './services.ts';

const templateFile = path.join(os.tmpdir(), 'circles-test-pglite-0.5.17.tar.gz');

/**
 * A fresh embedded database in memory. initdb takes 5-11 s here, so it runs once per machine: the empty
 * cluster is dumped to a tarball and every test database starts from a copy (~0.4 s).
 */
export async function freshPglite(): Promise<Database> {
  if (!existsSync(templateFile)) {
    const seed = await PGlite.create();
    const dump = await seed.dumpDataDir('gzip');
    await seed.close();
    mkdirSync(path.dirname(templateFile), { recursive: true });
    const tmp = `${templateFile}.${process.pid}`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, templateFile);
  }
  const blob = new Blob([readFileSync(templateFile)]);
  const pglite = await PGlite.create({ loadDataDir: blob });
  return wrapPglite(pglite, true);
}

/** A new, empty PostgreSQL database on the real server, dropped by `drop()`. */
export async function freshPostgres(): Promise<{ url: string; open(): Promise<Database>; drop(): Promise<void> }> {
  const name = `circles_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    open: () => openDatabase({ databaseUrl: url.toString(), dataDir: os.tmpdir() }),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
