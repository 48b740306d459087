import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';
import { testProviderMigrations } from './test-provider.ts';

/**
 * The payments service's own schema ("payments"). Communities, circles and people live in other services: here
 * only their ids. Provider objects are referenced by the provider's ids (Stripe's, or the built-in test provider's).
 */
export const migrations: Migrations = {
  '0001_payments': {
    async up(db) {
      // A community's payout account (Stripe Connect Express), onboarded by its owner.
      await sql`create table payments.accounts (
        community_id uuid primary key,
        provider text not null,
        provider_account_id text not null unique,
        created_by uuid not null,
        charges_enabled boolean not null default false,
        payouts_enabled boolean not null default false,
        details_submitted boolean not null default false,
        requirements_due text[] not null default '{}',
        default_currency text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);

      await sql`create table payments.tiers (
        id uuid primary key,
        community_id uuid not null,
        name text not null,
        description text not null default '',
        benefits text[] not null default '{}',
        circle_ids uuid[] not null,
        trial_days integer not null default 0 check (trial_days between 0 and 730),
        position integer not null default 0,
        provider text not null,
        provider_product_id text,
        created_by uuid not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        archived_at timestamptz
      )`.execute(db);
      await sql`create index tiers_community on payments.tiers (community_id, position)`.execute(db);
      await sql`create index tiers_circles on payments.tiers using gin (circle_ids)`.execute(db);

      // Prices never change: a new amount is a new row, the old one stops selling but keeps its subscribers.
      await sql`create table payments.prices (
        id uuid primary key,
        tier_id uuid not null references payments.tiers(id),
        community_id uuid not null,
        interval text check (interval in ('month', 'year')),
        amount integer not null check (amount > 0),
        currency text not null check (currency ~ '^[a-z]{3}$'),
        provider_price_id text,
        active boolean not null default true,
        created_at timestamptz not null default now(),
        archived_at timestamptz
      )`.execute(db);
      await sql`create unique index prices_one_active on payments.prices (tier_id, coalesce(interval, 'once')) where active`.execute(db);
      await sql`create unique index prices_provider on payments.prices (provider_price_id) where provider_price_id is not null`.execute(db);

      await sql`create table payments.promo_codes (
        id uuid primary key,
        community_id uuid not null,
        code text not null,
        percent_off integer check (percent_off between 1 and 100),
        amount_off integer check (amount_off > 0),
        currency text,
        duration text not null check (duration in ('once', 'repeating', 'forever')),
        duration_in_months integer,
        max_redemptions integer,
        expires_at timestamptz,
        tier_ids uuid[] not null default '{}',
        provider_promotion_id text,
        provider_coupon_id text,
        active boolean not null default true,
        created_by uuid not null,
        created_at timestamptz not null default now(),
        check ((percent_off is null) <> (amount_off is null))
      )`.execute(db);
      await sql`create unique index promo_codes_code on payments.promo_codes (community_id, lower(code))`.execute(db);

      await sql`create table payments.customers (
        user_id uuid not null,
        provider text not null,
        provider_customer_id text not null unique,
        created_at timestamptz not null default now(),
        primary key (user_id, provider)
      )`.execute(db);

      await sql`create table payments.checkouts (
        id uuid primary key,
        user_id uuid not null,
        community_id uuid not null,
        tier_id uuid not null references payments.tiers(id),
        price_id uuid not null references payments.prices(id),
        promo_code_id uuid references payments.promo_codes(id),
        provider text not null,
        provider_session_id text unique,
        mode text not null check (mode in ('subscription', 'payment')),
        status text not null default 'open' check (status in ('open', 'complete', 'expired')),
        terms_version text not null,
        terms_accepted boolean,
        tax_ids jsonb not null default '[]',
        created_at timestamptz not null default now(),
        completed_at timestamptz
      )`.execute(db);
      await sql`create index checkouts_user on payments.checkouts (user_id, created_at desc)`.execute(db);

      // Subscriptions and one-time purchases: what a member bought, kept in step with the provider's object.
      await sql`create table payments.subscriptions (
        id uuid primary key,
        kind text not null check (kind in ('subscription', 'one_time')),
        provider text not null,
        provider_subscription_id text unique,
        provider_payment_intent_id text unique,
        provider_customer_id text,
        checkout_id uuid references payments.checkouts(id),
        user_id uuid not null,
        community_id uuid not null,
        tier_id uuid not null references payments.tiers(id),
        price_id uuid references payments.prices(id),
        status text not null,
        current_period_start timestamptz,
        current_period_end timestamptz,
        cancel_at_period_end boolean not null default false,
        canceled_at timestamptz,
        ended_at timestamptz,
        trial_end timestamptz,
        past_due_since timestamptz,
        refunded_at timestamptz,
        suspended_at timestamptz,
        suspended_reason text,
        entitled boolean not null default false,
        entitled_circle_ids uuid[] not null default '{}',
        entitlement_version bigint not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index subscriptions_user on payments.subscriptions (user_id, created_at desc)`.execute(db);
      await sql`create index subscriptions_community on payments.subscriptions (community_id, created_at desc)`.execute(db);
      await sql`create index subscriptions_grace on payments.subscriptions (past_due_since) where past_due_since is not null and entitled`.execute(db);

      // Webhook deliveries and the test provider's events: the id is the provider's event id, so a repeat is a
      // no-op; applied_at is set in the same transaction as the event's effect.
      await sql`create table payments.provider_events (
        id text primary key,
        provider text not null,
        type text not null,
        created integer not null,
        account text,
        payload jsonb not null,
        received_at timestamptz not null default now(),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null default now(),
        last_error text,
        applied_at timestamptz
      )`.execute(db);
      await sql`create index provider_events_pending on payments.provider_events (next_attempt_at, created) where applied_at is null`.execute(db);

      // Calls out: the idempotency key is stored before the first attempt, the result once it succeeded.
      await sql`create table payments.outbound_calls (
        key text primary key,
        operation text not null,
        result jsonb,
        created_at timestamptz not null default now(),
        completed_at timestamptz
      )`.execute(db);

      // Append-only: every financial event, from the creator's side. Amounts in minor units, signed.
      await sql`create table payments.ledger (
        seq bigserial primary key,
        id uuid not null unique,
        community_id uuid not null,
        kind text not null check (kind in ('charge', 'fee', 'refund', 'dispute', 'dispute_reversal', 'payout')),
        amount bigint not null,
        currency text not null,
        user_id uuid,
        subscription_id uuid,
        provider_object_id text not null,
        description text not null default '',
        occurred_at timestamptz not null,
        recorded_at timestamptz not null default now(),
        unique (kind, provider_object_id)
      )`.execute(db);
      await sql`create index ledger_community on payments.ledger (community_id, seq)`.execute(db);
      await sql`create function payments.append_only() returns trigger language plpgsql as $$
        begin raise exception 'payments.% is append-only', tg_table_name; end $$`.execute(db);
      await sql`create trigger ledger_append_only before update or delete on payments.ledger
        for each row execute function payments.append_only()`.execute(db);

      await sql`create table payments.disputes (
        id uuid primary key,
        provider_dispute_id text not null unique,
        community_id uuid not null,
        subscription_id uuid references payments.subscriptions(id),
        user_id uuid,
        provider_charge_id text not null,
        amount integer not null,
        currency text not null,
        reason text not null,
        status text not null,
        evidence_due_by timestamptz,
        evidence jsonb,
        submitted_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index disputes_community on payments.disputes (community_id, created_at desc)`.execute(db);

      // The audit trail of money: who did what (a person, or the provider through an event), never edited.
      await sql`create table payments.audit (
        seq bigserial primary key,
        community_id uuid not null,
        actor_id uuid,
        action text not null,
        target_type text not null,
        target_id text not null,
        detail jsonb not null default '{}',
        occurred_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index audit_community on payments.audit (community_id, seq)`.execute(db);
      await sql`create trigger audit_append_only before update or delete on payments.audit
        for each row execute function payments.append_only()`.execute(db);
    },
  },
  ...testProviderMigrations,
};
