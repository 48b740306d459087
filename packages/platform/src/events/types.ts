import type { Kysely } from 'kysely';

/** One fact other services may react to. `id` is unique: consumers deduplicate on it. */
export interface EventEnvelope<P = unknown> {
  id: string;
  topic: string;
  /** The producing service. */
  source: string;
  payload: P;
  occurredAt: string;
}

export type EventHandler = (event: EventEnvelope) => Promise<void>;

export interface ConsumeOptions {
  /** Durable consumer name: its position survives restarts. One name per logical subscriber. */
  consumer: string;
  /** Topics to receive; '*' for all. */
  topics: string[];
  handler: EventHandler;
  batchSize?: number;
  /** Attempts before an event is parked in the dead-letter store and skipped. */
  maxAttempts?: number;
}

export interface Subscription {
  /** Stops after the event in hand is handled and acknowledged. */
  stop(): Promise<void>;
}

/**
 * The durable event log the outbox relays feed. At-least-once delivery; a consumer acknowledges each event
 * after handling it and resumes after its last acknowledgement when restarted.
 */
export interface EventLog {
  /** Appends durably. With `tx` (same database), the append joins that transaction. */
  append(events: EventEnvelope[], tx?: Kysely<any>): Promise<void>;
  consume(opts: ConsumeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

export const matchesTopic = (topics: string[], topic: string) => topics.includes('*') || topics.includes(topic);
