import { EventEmitter } from 'node:events';
import { type Kysely, sql } from 'kysely';
import { newId } from '../ids.ts';
import type { Logger } from '../log.ts';
import type { EventEnvelope, EventLog } from './types.ts';
import { sleepUntil } from './util.ts';

/**
 * The producing side of the event log for one service schema. `write` must be called with the transaction that
 * makes the change, so the event exists if and only if the change committed.
 */
export class Outbox {
  private readonly wake = new EventEmitter();

  constructor(readonly schema: string) {}

  /**
   * An event row for a statement that writes it itself (a service folding its outbox insert into the statement
   * that makes the change, so the change and its event commit as one statement): the table, a new id and the JSON.
   */
  row<P>(topic: string, payload: P): { table: string; id: string; topic: string; payload: string } {
    return { table: `${this.schema}.outbox`, id: newId(), topic, payload: JSON.stringify(payload) };
  }

  async write<P>(trx: Kysely<any>, topic: string, payload: P): Promise<string> {
    const id = newId();
    await trx.insertInto(`${this.schema}.outbox`).values({ id, topic, payload: JSON.stringify(payload) }).execute();
    return id;
  }

  /** Tells the relay there is something to move (call after commit; the relay also polls). */
  nudge(): void {
    this.wake.emit('nudge');
  }

  /** Moves committed outbox rows to the event log; several relays may run at once (SKIP LOCKED). */
  startRelay(db: Kysely<any>, log: EventLog, logger: Logger, pollMs = 250): { stop(): Promise<void> } {
    let stopped = false;
    let kick: (() => void) | undefined;
    const onNudge = () => kick?.();
    this.wake.on('nudge', onNudge);
    const table = sql.id(this.schema, 'outbox');
    const loop = (async () => {
      while (!stopped) {
        try {
          const moved = await db.transaction().execute(async (trx) => {
            const { rows } = await sql<{ seq: number; id: string; topic: string; payload: unknown; occurred_at: Date }>`
              select seq, id, topic, payload, occurred_at from ${table} order by seq limit 200 for update skip locked`.execute(trx);
            if (!rows.length) return 0;
            const events: EventEnvelope[] = rows.map((r) => ({ id: r.id, topic: r.topic, source: this.schema, payload: r.payload, occurredAt: new Date(r.occurred_at).toISOString() }));
            await log.append(events, trx);
            await sql`delete from ${table} where seq = any(${rows.map((r) => r.seq)}::bigint[])`.execute(trx);
            return rows.length;
          });
          if (moved === 0) await sleepUntil(pollMs, (resume) => (kick = resume), () => stopped);
        } catch (err) {
          if (stopped) break;
          logger.error('outbox relay failed; retrying', { schema: this.schema, err });
          await sleepUntil(1000, (resume) => (kick = resume), () => stopped);
        }
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        kick?.();
        this.wake.off('nudge', onNudge);
        await loop;
      },
    };
  }
}

/**
 * Wraps an event handler so its database effects and the record that it ran commit together: redelivery of an
 * event already applied is a no-op (exactly-once effects on top of at-least-once delivery).
 */
export function applyOnce(
  db: Kysely<any>,
  schema: string,
  consumer: string,
  handler: (event: EventEnvelope, trx: Kysely<any>) => Promise<void | AfterCommit>,
): (event: EventEnvelope) => Promise<void> {
  return async (event) => {
    let after: AfterCommit | undefined;
    await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto(`${schema}.inbox`)
        .values({ consumer, event_id: event.id })
        .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
        .returning('event_id')
        .execute();
      if (inserted.length) after = (await handler(event, trx)) ?? undefined;
    });
    // What must follow the commit (dropping cached answers the change made stale) runs once it is visible.
    if (after) await after();
  };
}

/** A handler may return this to run once its transaction committed (e.g. invalidating caches). */
export type AfterCommit = () => Promise<void>;
