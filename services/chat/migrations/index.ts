import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/**
 * The chat service's own schema ("chat"). Channels live in a community's spaces (ids only: Community owns them);
 * messages carry a per-channel sequence so a reconnecting client asks for exactly what it missed, and the sender's
 * own message id so a resend after a lost acknowledgement stores nothing twice.
 */
export const migrations: Migrations = {
  '0001_channels_messages': {
    async up(db) {
      await sql`create table chat.channels (
        id uuid primary key,
        community_id uuid not null,
        space_id uuid not null,
        name text not null,
        topic text not null default '',
        position integer not null,
        slow_mode_seconds integer not null default 0,
        -- The last sequence number handed out: bumped under the row lock in the sending transaction.
        last_seq bigint not null default 0,
        created_by uuid not null,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index channels_name on chat.channels (space_id, lower(name))`.execute(db);
      await sql`create index channels_space on chat.channels (space_id, position)`.execute(db);

      await sql`create table chat.messages (
        id uuid primary key,
        channel_id uuid not null references chat.channels(id) on delete cascade,
        seq bigint not null,
        author_id uuid not null,
        client_id text not null,
        body text not null,
        reply_to_id uuid,
        created_at timestamptz not null default now(),
        edited_at timestamptz,
        deleted_at timestamptz
      )`.execute(db);
      await sql`create unique index messages_seq on chat.messages (channel_id, seq)`.execute(db);
      await sql`create unique index messages_client on chat.messages (channel_id, author_id, client_id)`.execute(db);
    },
  },
  '0002_read_positions': {
    async up(db) {
      // How far each member has read each channel: kept on the server, so every device of theirs agrees.
      await sql`create table chat.read_positions (
        user_id uuid not null,
        channel_id uuid not null references chat.channels(id) on delete cascade,
        seq bigint not null,
        updated_at timestamptz not null default now(),
        primary key (user_id, channel_id)
      )`.execute(db);
    },
  },
};
