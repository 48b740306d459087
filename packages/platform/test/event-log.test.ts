import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributedServicesAvailable, freshPglite, freshPostgres, REDIS_URL } from '@circles/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db.ts';
import { applyOnce, Outbox } from '../src/events/outbox.ts';
import { RedisEventLog } from '../src/events/redis-log.ts';
import { SqlEventLog } from '../src/events/sql-log.ts';
import type { ConsumeOptions, EventEnvelope, EventLog } from '../src/events/types.ts';
import { connectRedis, type Redis } from '../src/infra/redis.ts';
import { type Migrations, migrateSchema } from '../src/migrate.ts';
import type { ConsumerConfig } from './fixtures/event-consumer.ts';
import { deleteRedisPrefix, quietLogger, range, runId, sleep, waitFor } from './helpers.ts';

const canRunDistributed = await distributedServicesAvailable();
const logger = quietLogger();
const SCHEMA = 'svc_events';

/** The consuming service's own table: one row per applied effect, deliberately without a unique constraint. */
const effectMigrations: Migrations = {
  '0001_effect': {
    async up(db) {
      await sql`create table ${sql.id(SCHEMA, 'effect')} (
        applied_seq bigserial primary key,
        event_id uuid not null,
        n int not null
      )`.execute(db);
    },
  },
};

interface Harness {
  db: Kysely<any>;
  log: EventLog;
  outbox: Outbox;
  deadLetters(consumer: string): Promise<{ eventId: string; error: string }[]>;
  close(): Promise<void>;
}

type Backend = 'SqlEventLog on PGlite' | 'SqlEventLog on PostgreSQL' | 'RedisEventLog';
const backends: Backend[] = ['SqlEventLog on PGlite', 'SqlEventLog on PostgreSQL', 'RedisEventLog'];

const sqlDeadLetters = (db: Kysely<any>) => async (consumer: string) =>
  (await db.selectFrom('platform.event_dead_letter').select(['event_id', 'error']).where('consumer', '=', consumer).execute()).map((r) => ({
    eventId: r.event_id as string,
    error: r.error as string,
  }));

async function redisDeadLetters(redis: Redis, stream: string, consumer: string) {
  const entries = await redis.xrange(`${stream}:dead`, '-', '+');
  return entries
    .map(([, fields]) => Object.fromEntries(range(fields.length / 2).map((i) => [fields[2 * i], fields[2 * i + 1]])) as Record<string, string>)
    .filter((f) => f.consumer === consumer)
    .map((f) => ({ eventId: f.id!, error: f.error! }));
}

/** A database with the consuming schema migrated, an event log of the given kind and the outbox relay running. */
async function openHarness(backend: Backend): Promise<Harness> {
  const pgdb = backend === 'SqlEventLog on PGlite' ? null : await freshPostgres();
  const database: Database = pgdb ? await pgdb.open() : await freshPglite();
  const { db } = database;
  await migrateSchema(db, SCHEMA, effectMigrations);
  let redis: Redis | null = null;
  let log: EventLog;
  let deadLetters: Harness['deadLetters'];
  const prefix = `circles-test:${runId()}:`;
  if (backend === 'RedisEventLog') {
    redis = connectRedis(REDIS_URL, 'test-event-log');
    const stream = `${prefix}events`;
    log = new RedisEventLog(redis, logger, { stream, instance: 'in-process', blockMs: 100 });
    deadLetters = (consumer) => redisDeadLetters(redis!, stream, consumer);
  } else {
    log = await SqlEventLog.open(db, logger, 20);
    deadLetters = sqlDeadLetters(db);
  }
  const outbox = new Outbox(SCHEMA);
  const relay = outbox.startRelay(db, log, logger, 20);
  return {
    db,
    log,
    outbox,
    deadLetters,
    async close() {
      await relay.stop();
      await log.close();
      await database.close();
      await pgdb?.drop();
      if (redis) {
        await deleteRedisPrefix(redis, prefix);
        redis.disconnect();
      }
    },
  };
}

/** Writes events through the outbox, `perTx` per transaction, the way a service does. Returns their ids. */
async function produce(h: Pick<Harness, 'db' | 'outbox'>, topic: string, payloads: unknown[], perTx = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < payloads.length; i += perTx) {
    await h.db.transaction().execute(async (trx) => {
      for (const p of payloads.slice(i, i + perTx)) ids.push(await h.outbox.write(trx, topic, p));
    });
    h.outbox.nudge();
  }
  return ids;
}

async function collect(h: Harness, consumer: string, topic: string, extra: Partial<ConsumeOptions> = {}) {
  const got: EventEnvelope<{ n: number }>[] = [];
  const sub = await h.log.consume({ consumer, topics: [topic], handler: async (e) => void got.push(e as EventEnvelope<{ n: number }>), ...extra });
  return { got, ns: () => got.map((e) => e.payload.n), sub };
}

describe.each(backends)('event log (%s)', (backend) => {
  const run = backend === 'SqlEventLog on PGlite' || canRunDistributed;
  let h: Harness;
  beforeAll(async () => {
    if (run) h = await openHarness(backend);
  });
  afterAll(async () => {
    await h?.close();
  });
  // Every test uses its own topics and consumer names: the log is shared within a backend.
  const name = (what: string) => `${what}.${runId()}`;

  it.runIf(run)('delivers in order to each durable consumer, which resumes after its last acknowledgement', async () => {
    const topic = name('ordered');
    const ids = await produce(h, topic, range(9).map((n) => ({ n })), 3);
    ids.push(...(await produce(h, topic, [{ n: 9 }])));
    await produce(h, name('unrelated'), [{ n: -1 }]);

    const first = await collect(h, 'projector', topic);
    await waitFor(() => first.got.length >= 10, 'the first ten events');
    await first.sub.stop();
    expect(first.ns()).toEqual(range(10));
    expect(first.got.map((e) => e.id)).toEqual(ids);
    expect(first.got[0]).toMatchObject({ topic, source: SCHEMA, payload: { n: 0 } });
    expect(new Date(first.got[0]!.occurredAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

    await produce(h, topic, range(5, 10).map((n) => ({ n })));
    // Same name: only what it has not acknowledged. Order means any redelivery of 0..9 would come first.
    const resumed = await collect(h, 'projector', topic);
    await waitFor(() => resumed.got.some((e) => e.payload.n === 14), 'event 14 after the restart');
    expect(resumed.ns()).toEqual(range(5, 10));
    // A new name has a position of its own and starts from the beginning.
    const other = await collect(h, 'auditor', topic);
    await waitFor(() => other.got.length >= 15, 'all fifteen for the second consumer');
    expect(other.ns()).toEqual(range(15));
    await Promise.all([resumed.sub.stop(), other.sub.stop()]);
  });

  it.runIf(run)('never publishes an event written in a transaction that rolled back', async () => {
    const topic = name('atomic');
    await expect(
      h.db.transaction().execute(async (trx) => {
        await h.outbox.write(trx, topic, { n: -1 });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await produce(h, topic, [{ n: 1 }]);
    const c = await collect(h, 'atomic-consumer', topic);
    await waitFor(() => c.got.length >= 1, 'the committed event');
    await sleep(200);
    await c.sub.stop();
    expect(c.ns()).toEqual([1]);
    const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${sql.id(SCHEMA, 'outbox')}`.execute(h.db);
    expect(rows[0]!.count).toBe(0); // the relay moved everything it committed
  });

  it.runIf(run)('applyOnce: effects of a redelivered event are applied once; a failed handler leaves no trace', async () => {
    const event: EventEnvelope = { id: crypto.randomUUID(), topic: 'manual', source: 'test', payload: { n: 7 }, occurredAt: new Date().toISOString() };
    let failNext = true;
    const apply = applyOnce(h.db, SCHEMA, 'apply-once-test', async (e, trx) => {
      await trx.insertInto(`${SCHEMA}.effect`).values({ event_id: e.id, n: (e.payload as { n: number }).n }).execute();
      if (failNext) {
        failNext = false;
        throw new Error('crashed after writing');
      }
    });
    await expect(apply(event)).rejects.toThrow('crashed after writing');
    const count = async () =>
      (await h.db.selectFrom(`${SCHEMA}.effect`).select((eb) => eb.fn.countAll<number>().as('c')).where('event_id', '=', event.id).executeTakeFirstOrThrow()).c;
    expect(Number(await count())).toBe(0); // rolled back with the inbox row, so a retry will apply it
    await Promise.all(range(5).map(() => apply(event))); // concurrent redeliveries
    await apply(event);
    expect(Number(await count())).toBe(1);
    // Another consumer's inbox is separate: it applies its own effects.
    const other = applyOnce(h.db, SCHEMA, 'apply-once-other', async (e, trx) => {
      await trx.insertInto(`${SCHEMA}.effect`).values({ event_id: e.id, n: 0 }).execute();
    });
    await other(event);
    expect(Number(await count())).toBe(2);
  });

  it.runIf(run)('retries a failing handler, parks an event that keeps failing in the dead-letter store and moves on', async () => {
    const topic = name('poison');
    const [poisonId, flakyId] = await produce(h, topic, [{ n: 0 }, { n: 1 }, { n: 2 }]);
    const attempts = new Map<number, number>();
    const handled: number[] = [];
    const handler = async (e: EventEnvelope) => {
      const n = (e.payload as { n: number }).n;
      const attempt = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, attempt);
      if (n === 0) throw new Error('poison pill');
      if (n === 1 && attempt < 3) throw new Error('transient');
      handled.push(n);
    };
    const opts = { consumer: 'strict', topics: [topic], maxAttempts: 3, handler };
    const sub = await h.log.consume(opts);
    await waitFor(() => handled.includes(2), 'the event after the poison one');
    await sub.stop();
    expect(Object.fromEntries(attempts)).toEqual({ 0: 3, 1: 3, 2: 1 });
    expect(handled).toEqual([1, 2]);
    const parked = await h.deadLetters('strict');
    expect(parked).toEqual([{ eventId: poisonId, error: 'poison pill' }]);
    expect(parked.map((p) => p.eventId)).not.toContain(flakyId);

    // After a restart the parked event stays parked: the consumer carries on with new events only.
    await produce(h, topic, [{ n: 3 }]);
    const again = await h.log.consume(opts);
    await waitFor(() => handled.includes(3), 'the next event after the restart');
    await again.stop();
    expect(attempts.get(0)).toBe(3);
    expect(handled).toEqual([1, 2, 3]);
  });

  it.runIf(run)('stop() waits for the event in hand, which is then acknowledged (not redelivered)', async () => {
    const topic = name('stop');
    const [firstId, secondId] = await produce(h, topic, [{ n: 1 }, { n: 2 }]);
    const trace: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sub = await h.log.consume({
      consumer: 'graceful',
      topics: [topic],
      handler: async (e) => {
        trace.push(`start ${(e.payload as { n: number }).n}`);
        if (e.id === firstId) await gate;
        trace.push(`end ${(e.payload as { n: number }).n}`);
      },
    });
    await waitFor(() => trace.includes('start 1'), 'the first event to be in hand');
    const stopped = sub.stop().then(() => trace.push('stopped'));
    await sleep(150);
    expect(trace).toEqual(['start 1']); // still waiting for the handler
    release();
    await stopped;
    expect(trace).toEqual(['start 1', 'end 1', 'stopped']);

    const resumed = await collect(h, 'graceful', topic);
    await waitFor(() => resumed.got.length >= 1, 'the second event after the restart');
    await sleep(200);
    await resumed.sub.stop();
    expect(resumed.got.map((e) => e.id)).toEqual([secondId]);
  });
});

describe.runIf(canRunDistributed)('RedisEventLog: entries another instance left behind', () => {
  const prefix = `circles-test:${runId()}:`;
  let redis: Redis;
  beforeAll(() => {
    redis = connectRedis(REDIS_URL, 'test-redis-log');
  });
  afterAll(async () => {
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  });
  const envelope = (n: number): EventEnvelope => ({ id: crypto.randomUUID(), topic: 'left', source: 'test', payload: { n }, occurredAt: new Date().toISOString() });

  /** Reads entries into `ghost`'s pending list and never acknowledges them, as an instance that died would. */
  async function readAsGhost(stream: string, group: string, count: number) {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const res = (await redis.xreadgroup('GROUP', group, 'ghost', 'COUNT', count, 'STREAMS', stream, '>')) as [string, unknown[]][];
    expect(res[0]![1]).toHaveLength(count);
  }

  it('claims the pending entries of an instance that never came back, once idle long enough', async () => {
    const stream = `${prefix}claim`;
    const log = new RedisEventLog(redis, logger, { stream, instance: 'survivor', claimIdleMs: 100, blockMs: 100 });
    await log.append([envelope(0), envelope(1), envelope(2)]);
    await readAsGhost(stream, 'claimer', 2);
    await sleep(150);
    const got: number[] = [];
    const sub = await log.consume({ consumer: 'claimer', topics: ['left'], handler: async (e) => void got.push((e.payload as { n: number }).n) });
    await waitFor(() => got.length >= 3, 'all three events');
    await sub.stop();
    expect(got.sort()).toEqual([0, 1, 2]);
    expect(((await redis.xpending(stream, 'claimer')) as [number])[0]).toBe(0);
  });

  it('is not wedged by its own pending entries that were trimmed from the stream meanwhile', async () => {
    const stream = `${prefix}trimmed`;
    const log = new RedisEventLog(redis, logger, { stream, instance: 'ghost', blockMs: 100 });
    await log.append([envelope(0), envelope(1)]);
    await readAsGhost(stream, 'trimmed', 2);
    await redis.xtrim(stream, 'MAXLEN', 0); // e.g. MAXLEN trimming during a long outage
    await log.append([envelope(2)]);
    const got: number[] = [];
    const sub = await log.consume({ consumer: 'trimmed', topics: ['left'], handler: async (e) => void got.push((e.payload as { n: number }).n) });
    await waitFor(() => got.length >= 1, 'the event appended after the trim', 5_000);
    await sub.stop();
    expect(got).toEqual([2]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The crash test: a consumer process SIGKILLed mid-stream, twice, then left to finish.

const fixture = fileURLToPath(new URL('./fixtures/event-consumer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const TOTAL = 300;
const KILL_AFTER = [80, 170]; // handled events (cumulative) at which the child is SIGKILLed

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

function startConsumer(cfg: ConsumerConfig): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: repoRoot,
    env: { ...process.env, CONSUMER_CONFIG: JSON.stringify(cfg) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d));
    void exited.then(({ code, signal }) => reject(new Error(`consumer exited (${code ?? signal}) before ready:\n${out}`)));
  });
  ready.catch(() => {}); // observed by the caller; avoids an unhandled rejection when it exits later
  return { proc, ready, exited, output: () => out };
}

/** What the child logged: deliveries (handler entered) and handled event ids (effect committed). */
function progress(file: string) {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const deliveries = lines.filter((l) => l.startsWith('d ')).map((l) => l.slice(2));
  const handled = new Set(lines.filter((l) => l.startsWith('h ')).map((l) => l.slice(2)));
  return { deliveries, handled };
}

type KillBackend = 'SqlEventLog on PostgreSQL' | 'SqlEventLog on PGlite (data dir on disk)' | 'RedisEventLog';
const killBackends: KillBackend[] = ['SqlEventLog on PostgreSQL', 'SqlEventLog on PGlite (data dir on disk)', 'RedisEventLog'];

describe.each(killBackends)('crash recovery (%s)', (backend) => {
  const embedded = backend === 'SqlEventLog on PGlite (data dir on disk)';
  const run = embedded || canRunDistributed;
  let tmp: string | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.runIf(run)(
    'a consumer killed mid-stream resumes with nothing lost and nothing applied twice',
    async () => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'circles-event-crash-'));
      const progressFile = path.join(tmp, 'progress.log');
      const dataDir = path.join(tmp, 'data');
      const topic = 'effects.created';
      const consumer = 'effects-projector';
      const payloads = range(TOTAL).map((n) => ({ n }));
      const prefix = `circles-test:${runId()}:`;
      const stream = `${prefix}events`;
      const base = { topic, schema: SCHEMA, consumer, delayMs: 20, progressFile, dataDir, stream, redisUrl: REDIS_URL };

      let cfg: ConsumerConfig;
      let producedIds: Promise<string[]>;
      let db: Kysely<any>; // the parent's view, for the checks at the end
      let redis: Redis | null = null;
      if (embedded) {
        // Only one process may open the data dir, so the parent writes every event into the outbox first and
        // the child runs the relay as well as the consumer: a kill can hit either.
        const seed = await openDatabase({ dataDir });
        await migrateSchema(seed.db, SCHEMA, effectMigrations);
        await SqlEventLog.open(seed.db, logger);
        const ids = await produce({ db: seed.db, outbox: new Outbox(SCHEMA) }, topic, payloads, 10);
        await seed.close();
        producedIds = Promise.resolve(ids);
        cfg = { ...base, log: 'sql', relay: true };
      } else {
        const pgdb = await freshPostgres();
        const database = await pgdb.open();
        cleanups.push(async () => {
          await database.close();
          await pgdb.drop();
        });
        db = database.db;
        await migrateSchema(db, SCHEMA, effectMigrations);
        let log: EventLog;
        if (backend === 'RedisEventLog') {
          redis = connectRedis(REDIS_URL, 'test-producer');
          const r = redis;
          cleanups.push(async () => {
            await deleteRedisPrefix(r, prefix);
            r.disconnect();
          });
          log = new RedisEventLog(redis, logger, { stream });
        } else {
          log = await SqlEventLog.open(db, logger, 50);
        }
        // The producing service: its relay runs here while the consumer process comes and goes.
        const outbox = new Outbox(SCHEMA);
        const relay = outbox.startRelay(db, log, logger, 20);
        cleanups.push(() => relay.stop()); // cleanups run last-in first-out: before the database closes
        cfg = { ...base, log: backend === 'RedisEventLog' ? 'redis' : 'sql', databaseUrl: pgdb.url, relay: false };
        producedIds = (async () => {
          const ids: string[] = [];
          for (let i = 0; i < TOTAL; i += 5) {
            ids.push(...(await produce({ db, outbox }, topic, payloads.slice(i, i + 5), 5)));
            await sleep(25); // still producing when the first kill lands
          }
          return ids;
        })();
      }

      let child = startConsumer(cfg);
      cleanups.push(async () => void child.proc.kill('SIGKILL'));
      await child.ready;
      const handledAtKill: number[] = [];
      for (const threshold of KILL_AFTER) {
        await waitFor(() => progress(progressFile).handled.size >= threshold, `${threshold} events handled`, 90_000);
        child.proc.kill('SIGKILL');
        expect((await child.exited).signal).toBe('SIGKILL');
        handledAtKill.push(progress(progressFile).handled.size);
        child = startConsumer(cfg);
        await child.ready;
      }
      const ids = await producedIds;
      expect(ids).toHaveLength(TOTAL);
      await waitFor(() => progress(progressFile).handled.size >= TOTAL, 'every event handled', 120_000, 50);
      child.proc.kill('SIGTERM');
      expect(await child.exited, child.output()).toEqual({ code: 0, signal: null });

      // The kills really were mid-stream.
      for (const n of handledAtKill) expect(n).toBeLessThan(TOTAL);

      let checkDb = db!;
      if (embedded) {
        const reopened = await openDatabase({ dataDir });
        cleanups.push(() => reopened.close());
        checkDb = reopened.db;
      }
      // Nothing lost, nothing applied twice, and in order (one consumer, one log).
      const effects = await checkDb.selectFrom(`${SCHEMA}.effect`).select(['event_id', 'n']).orderBy('applied_seq').execute();
      expect(effects.map((e) => e.n)).toEqual(range(TOTAL));
      expect(new Set(effects.map((e) => e.event_id)).size).toBe(TOTAL);
      expect(new Set(effects.map((e) => e.event_id))).toEqual(new Set(ids));
      const inbox = await checkDb.selectFrom(`${SCHEMA}.inbox`).select('event_id').where('consumer', '=', consumer).execute();
      expect(inbox).toHaveLength(TOTAL);
      const { rows: outboxLeft } = await sql<{ c: number }>`select count(*)::int as c from ${sql.id(SCHEMA, 'outbox')}`.execute(checkDb);
      expect(outboxLeft[0]!.c).toBe(0);

      // At-least-once delivery: every event reached the handler; only an event in hand at a kill came again.
      const { deliveries } = progress(progressFile);
      expect(new Set(deliveries)).toEqual(new Set(ids));
      expect(deliveries.length - TOTAL).toBeGreaterThanOrEqual(0);
      expect(deliveries.length - TOTAL).toBeLessThanOrEqual(KILL_AFTER.length);

      // Acknowledged up to the end, nothing parked.
      if (backend === 'RedisEventLog') {
        const pending = (await redis!.xpending(stream, consumer)) as [number, ...unknown[]];
        expect(pending[0]).toBe(0);
        expect(await redis!.xlen(`${stream}:dead`)).toBe(0);
      } else {
        const cursor = await checkDb.selectFrom('platform.event_cursor').select('seq').where('consumer', '=', consumer).executeTakeFirstOrThrow();
        const last = await checkDb.selectFrom('platform.event_log').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow();
        expect(Number(cursor.seq)).toBe(Number(last.seq));
        expect(await sqlDeadLetters(checkDb)(consumer)).toEqual([]);
      }
    },
    300_000,
  );
});
