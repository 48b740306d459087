import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/**
 * Tables of the built-in test-payments provider (providers/test-provider.ts), all `payments.test_*`. Used only
 * when no Stripe keys are configured; they hold Stripe-shaped test objects, never real card data (a card is kept
 * as brand + last four digits + how it behaves).
 */
export const testProviderMigrations: Migrations = {
  '0100_test_provider': {
    async up(db) {
      // The test clock: provider time = wall clock + offset_seconds. One row, shared by every process.
      // payouts_through: the last UTC midnight the daily payout run has handled.
      await sql`create table payments.test_clock (
        id smallint primary key default 1 check (id = 1),
        offset_seconds bigint not null default 0,
        payouts_through bigint
      )`.execute(db);
      await sql`insert into payments.test_clock (id, offset_seconds) values (1, 0)`.execute(db);

      // Every Stripe-shaped object, keyed by its Stripe-like id. data: the object as Stripe's JSON (what events
      // carry); internal: the emulator's own state (billing anchor, retry schedule, card behaviour...). due_at:
      // when the next time-driven transition of this object comes due (renewal, trial end, retry, expiry).
      await sql`create table payments.test_objects (
        id text primary key,
        seq bigserial not null,
        type text not null,
        customer text,
        account text,
        data jsonb not null,
        internal jsonb not null default '{}'::jsonb,
        due_at bigint,
        created bigint not null
      )`.execute(db);
      await sql`create index test_objects_by_customer on payments.test_objects (type, customer, created) where customer is not null`.execute(db);
      await sql`create index test_objects_by_account on payments.test_objects (type, account, created) where account is not null`.execute(db);
      await sql`create index test_objects_due on payments.test_objects (due_at, seq) where due_at is not null`.execute(db);
      await sql`create index test_objects_session_payment_intent on payments.test_objects ((data->>'payment_intent')) where type = 'checkout.session'`.execute(db);
      // Like Stripe: a code is unique (case-insensitively) among active promotion codes.
      await sql`create unique index test_objects_active_promotion_code on payments.test_objects (lower(data->>'code'))
        where type = 'promotion_code' and (data->>'active')::boolean`.execute(db);

      // Connected accounts' balances as Stripe keeps them: signed transactions, available from available_on.
      await sql`create table payments.test_balance_transactions (
        id text primary key,
        seq bigserial not null,
        account text not null,
        amount bigint not null,
        currency text not null,
        type text not null,
        source text,
        available_on bigint not null,
        created bigint not null
      )`.execute(db);
      await sql`create index test_balance_transactions_account on payments.test_balance_transactions (account, currency, available_on)`.execute(db);

      // Idempotency-Key → the object the first request created (and a hash of its parameters).
      await sql`create table payments.test_idempotency (
        key text primary key,
        operation text not null,
        request_hash text not null,
        object_id text not null,
        created bigint not null
      )`.execute(db);

      // Events written in the transaction of the change, then handed to the pipeline in seq order; a delivery
      // that failed stays here and goes first next time. lease_*: a process delivering it (crash-safe claim).
      await sql`create table payments.test_events (
        seq bigserial primary key,
        id text not null unique,
        type text not null,
        account text,
        created bigint not null,
        object jsonb not null,
        lease_owner text,
        lease_until bigint,
        delivered_at timestamptz
      )`.execute(db);
      await sql`create index test_events_pending on payments.test_events (seq) where delivered_at is null`.execute(db);
    },
  },
};
