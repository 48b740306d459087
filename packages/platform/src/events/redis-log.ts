import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { type ConsumeOptions, type EventEnvelope, type EventLog, matchesTopic, type Subscription } from './types.ts';
import { runWithRetries } from './util.ts';

type StreamEntry = [id: string, fields: string[]];

/**
 * Event log on a Redis stream with one consumer group per durable consumer. A delivered entry stays in the
 * group's pending list until acknowledged, so a consumer that dies mid-batch gets it again: on restart it
 * first re-reads its own pending entries, and entries left by a consumer instance that never returns are
 * claimed after `claimIdleMs`.
 */
export class RedisEventLog implements EventLog {
  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly opts: { stream?: string; instance?: string; claimIdleMs?: number; blockMs?: number; maxLen?: number } = {},
  ) {}

  private get stream() {
    return this.opts.stream ?? 'circles:events';
  }

  async append(events: EventEnvelope[], _tx?: Kysely<any>): Promise<void> {
    if (!events.length) return;
    const multi = this.redis.multi();
    for (const e of events) {
      multi.xadd(this.stream, 'MAXLEN', '~', String(this.opts.maxLen ?? 1_000_000), '*', 'id', e.id, 'topic', e.topic, 'source', e.source, 'payload', JSON.stringify(e.payload), 'occurredAt', e.occurredAt);
    }
    const res = await multi.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  private readonly subscriptions = new Set<Subscription>();

  async consume(opts: ConsumeOptions): Promise<Subscription> {
    const group = opts.consumer;
    const me = this.opts.instance ?? process.env.CIRCLES_INSTANCE_ID ?? hostname();
    const conn = this.redis.duplicate();
    try {
      await conn.xgroup('CREATE', this.stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    let stopped = false;
    const batch = opts.batchSize ?? 100;

    const handle = async (entries: StreamEntry[]) => {
      for (const [entryId, fields] of entries) {
        if (stopped) return;
        const f: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (matchesTopic(opts.topics, f.topic!)) {
          const event: EventEnvelope = { id: f.id!, topic: f.topic!, source: f.source!, payload: JSON.parse(f.payload!), occurredAt: f.occurredAt! };
          const res = await runWithRetries(opts, event, this.log);
          if (!res.handled) {
            await this.redis.xadd(`${this.stream}:dead`, '*', 'consumer', group, 'id', event.id, 'error', res.error, 'entry', entryId);
          }
        }
        // On the shared connection, not `conn`: stop() disconnects `conn` to cut a blocking read short, and the
        // event in hand must still be acknowledged (parked) once its handler returns.
        await this.redis.xack(this.stream, group, entryId);
      }
    };

    const loop = (async () => {
      // Own pending entries first (delivered before a crash, never acknowledged), then new ones.
      let cursor = '0';
      let lastClaim = 0;
      while (!stopped) {
        try {
          if (Date.now() - lastClaim > 5000) {
            lastClaim = Date.now();
            const claimed = (await conn.xautoclaim(this.stream, group, me, this.opts.claimIdleMs ?? 30_000, '0-0', 'COUNT', batch)) as [string, StreamEntry[]];
            await handle(claimed[1].filter(Boolean));
          }
          const res = (await (cursor === '>'
            ? conn.xreadgroup('GROUP', group, me, 'COUNT', batch, 'BLOCK', this.opts.blockMs ?? 1000, 'STREAMS', this.stream, '>')
            : conn.xreadgroup('GROUP', group, me, 'COUNT', batch, 'STREAMS', this.stream, cursor))) as [string, StreamEntry[]][] | null;
          const entries = res?.[0]?.[1] ?? [];
          if (cursor !== '>' && entries.length === 0) {
            cursor = '>';
            continue;
          }
          await handle(entries);
          if (cursor !== '>') cursor = entries.at(-1)?.[0] ?? '>';
        } catch (err) {
          if (stopped) break;
          this.log.error('event consumer failed; retrying', { consumer: group, err });
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();

    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        this.subscriptions.delete(sub);
        // Unblocks a pending XREADGROUP BLOCK at once instead of waiting out the block time.
        conn.disconnect();
        await loop;
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }
}
