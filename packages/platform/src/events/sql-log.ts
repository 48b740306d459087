import { EventEmitter } from 'node:events';
import { type Kysely, sql } from 'kysely';
import { lockKey } from '../db.ts';
import type { Logger } from '../log.ts';
import { migrateSchema } from '../migrate.ts';
import type { ConsumeOptions, EventEnvelope, EventLog, Subscription } from './types.ts';
import { runWithRetries, sleepUntil } from './util.ts';

const APPEND_LOCK = lockKey('platform:event_log:append');

/**
 * Event log in PostgreSQL tables (the embedded default keeps it in PGlite: nothing to install). Appends take a
 * transaction-scoped advisory lock so sequence numbers become visible in order: a consumer reading
 * `seq > cursor` can never skip a row that commits later.
 */
export class SqlEventLog implements EventLog {
  private readonly wake = new EventEmitter().setMaxListeners(0);

  private constructor(
    private readonly db: Kysely<any>,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  static async open(db: Kysely<any>, log: Logger, pollMs = 500): Promise<SqlEventLog> {
    await migrateSchema(
      db,
      'platform',
      {
        '0001_event_log': {
          async up(db) {
            await sql`create table platform.event_log (
              seq bigserial primary key,
              id uuid not null unique,
              topic text not null,
              source text not null,
              payload jsonb not null,
              occurred_at timestamptz not null,
              appended_at timestamptz not null default now()
            )`.execute(db);
            await sql`create table platform.event_cursor (
              consumer text primary key,
              seq bigint not null default 0,
              updated_at timestamptz not null default now()
            )`.execute(db);
            await sql`create table platform.event_dead_letter (
              consumer text not null,
              event_id uuid not null,
              error text not null,
              parked_at timestamptz not null default now(),
              primary key (consumer, event_id)
            )`.execute(db);
          },
        },
      },
      { withPlatformTables: false },
    );
    return new SqlEventLog(db, log, pollMs);
  }

  async append(events: EventEnvelope[], tx?: Kysely<any>): Promise<void> {
    if (!events.length) return;
    const run = async (trx: Kysely<any>) => {
      await sql`select pg_advisory_xact_lock(${APPEND_LOCK})`.execute(trx);
      await trx
        .insertInto('platform.event_log')
        .values(events.map((e) => ({ id: e.id, topic: e.topic, source: e.source, payload: JSON.stringify(e.payload), occurred_at: e.occurredAt })))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    };
    if (tx) await run(tx);
    else await this.db.transaction().execute(run);
    // Wake local consumers once the caller's transaction has had a chance to commit.
    setImmediate(() => this.wake.emit('appended'));
  }

  private readonly subscriptions = new Set<Subscription>();

  async consume(opts: ConsumeOptions): Promise<Subscription> {
    const batch = opts.batchSize ?? 100;
    const topics = opts.topics;
    let stopped = false;
    let kick: (() => void) | undefined;
    const onAppend = () => kick?.();
    this.wake.on('appended', onAppend);
    await this.db.insertInto('platform.event_cursor').values({ consumer: opts.consumer, seq: 0 }).onConflict((oc) => oc.column('consumer').doNothing()).execute();

    const loop = (async () => {
      while (!stopped) {
        try {
          const cur = await this.db.selectFrom('platform.event_cursor').select('seq').where('consumer', '=', opts.consumer).executeTakeFirstOrThrow();
          let q = this.db.selectFrom('platform.event_log').selectAll().where('seq', '>', cur.seq).orderBy('seq').limit(batch);
          if (!topics.includes('*')) q = q.where('topic', 'in', topics);
          const rows = await q.execute();
          if (!rows.length) {
            await sleepUntil(this.pollMs, (resume) => (kick = resume), () => stopped);
            continue;
          }
          for (const row of rows) {
            if (stopped) break;
            const event: EventEnvelope = {
              id: row.id,
              topic: row.topic,
              source: row.source,
              payload: row.payload,
              occurredAt: new Date(row.occurred_at).toISOString(),
            };
            const ok = await runWithRetries(opts, event, this.log);
            if (!ok.handled) {
              await this.db
                .insertInto('platform.event_dead_letter')
                .values({ consumer: opts.consumer, event_id: event.id, error: ok.error })
                .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
                .execute();
            }
            // Acknowledge: the cursor moves past this event only after it was handled (or parked).
            await this.db.updateTable('platform.event_cursor').set({ seq: row.seq, updated_at: new Date() }).where('consumer', '=', opts.consumer).execute();
          }
        } catch (err) {
          if (stopped) break;
          this.log.error('event consumer failed; retrying', { consumer: opts.consumer, err });
          await sleepUntil(1000, (resume) => (kick = resume), () => stopped);
        }
      }
    })();

    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        kick?.();
        this.wake.off('appended', onAppend);
        this.subscriptions.delete(sub);
        await loop;
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.wake.removeAllListeners();
  }
}
