import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/** The auth service's own schema ("auth"). No other service reads these tables. */
export const migrations: Migrations = {
  '0001_accounts': {
    async up(db) {
      await sql`create table auth.users (
        id uuid primary key,
        email text not null,
        handle text not null,
        display_name text not null,
        password_hash text not null,
        email_verified_at timestamptz,
        is_instance_admin boolean not null default false,
        password_changed_at timestamptz not null default now(),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      // Uniqueness ignores case: "Ann@x.org" and "ann@x.org" are one account, "Ann" and "ann" one handle.
      await sql`create unique index users_email_key on auth.users (lower(email))`.execute(db);
      await sql`create unique index users_handle_key on auth.users (lower(handle))`.execute(db);

      await sql`create table auth.email_tokens (
        token_hash text primary key,
        user_id uuid not null references auth.users(id) on delete cascade,
        purpose text not null check (purpose in ('verify_email', 'reset_password')),
        expires_at timestamptz not null,
        used_at timestamptz,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index email_tokens_user on auth.email_tokens (user_id, purpose)`.execute(db);

      // Addresses an account has logged in from: they keep working while the account is under attack elsewhere.
      await sql`create table auth.known_ips (
        user_id uuid not null references auth.users(id) on delete cascade,
        ip text not null,
        last_success_at timestamptz not null default now(),
        primary key (user_id, ip)
      )`.execute(db);
    },
  },
};
