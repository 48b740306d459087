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
  '0002_sign_ins': {
    async up(db) {
      // Every sign-in that opened a session (sign-up, login, password change), kept after the session ends: the
      // account's login history, for its owner and for dispute evidence. Older than 400 days is pruned on write.
      await sql`create table auth.sign_ins (
        id uuid primary key,
        user_id uuid not null references auth.users(id) on delete cascade,
        method text not null check (method in ('sign_up', 'password', 'password_change')),
        session_id text not null,
        ip text,
        user_agent text,
        at timestamptz not null default now()
      )`.execute(db);
      await sql`create index sign_ins_user on auth.sign_ins (user_id, at desc)`.execute(db);
    },
  },
  '0003_profile_version': {
    async up(db) {
      // Handles and display names change; each change bumps the version other services' projections compare, so
      // a late or repeated event never puts an old name back.
      await sql`alter table auth.users add column profile_version integer not null default 0`.execute(db);
    },
  },
};
