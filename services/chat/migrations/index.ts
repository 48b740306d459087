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
  '0003_direct_threads_reactions_mentions_files_pins': {
    async up(db) {
      // Direct conversations (two people, one per pair) and groups (3 to 10) live beside space channels: no
      // community or space, members listed here. dm_key is the sorted pair, unique, so opening twice finds one.
      await sql`alter table chat.channels
        add column kind text not null default 'space' check (kind in ('space', 'dm', 'group')),
        alter column community_id drop not null,
        alter column space_id drop not null,
        alter column name drop not null,
        add column dm_key text,
        add column last_activity_at timestamptz not null default now(),
        add constraint channels_kind_shape check (
          (kind = 'space' and community_id is not null and space_id is not null and name is not null and dm_key is null)
          or (kind = 'dm' and community_id is null and space_id is null and name is null and dm_key is not null)
          or (kind = 'group' and community_id is null and space_id is null and dm_key is null))`.execute(db);
      await sql`create unique index channels_dm_key on chat.channels (dm_key)`.execute(db);
      await sql`create table chat.channel_members (
        channel_id uuid not null references chat.channels(id) on delete cascade,
        user_id uuid not null,
        joined_at timestamptz not null default now(),
        primary key (channel_id, user_id)
      )`.execute(db);
      await sql`create index channel_members_user on chat.channel_members (user_id)`.execute(db);

      // Threads: a reply points at its root (a main-timeline message of the same channel); the root keeps the summary.
      // Mentions are resolved once, on write. Pins are a mark on the message.
      await sql`alter table chat.messages
        add column thread_id uuid references chat.messages(id) on delete cascade,
        add column reply_count integer not null default 0,
        add column last_reply_at timestamptz,
        add column mention_ids uuid[] not null default '{}',
        add column mentions_everyone boolean not null default false,
        add column mentions_here boolean not null default false,
        add column pinned_at timestamptz,
        add column pinned_by uuid`.execute(db);
      // The main timeline and each thread page by sequence on their own index.
      await sql`create index messages_main on chat.messages (channel_id, seq) where thread_id is null`.execute(db);
      await sql`create index messages_thread on chat.messages (thread_id, seq) where thread_id is not null`.execute(db);
      await sql`create index messages_threads on chat.messages (channel_id, last_reply_at desc, id desc) where reply_count > 0`.execute(db);
      await sql`create index messages_pinned on chat.messages (channel_id, pinned_at desc) where pinned_at is not null`.execute(db);

      // Who follows which thread; false records an explicit unfollow, so starting it again does not re-follow you.
      await sql`create table chat.thread_follows (
        root_id uuid not null references chat.messages(id) on delete cascade,
        user_id uuid not null,
        following boolean not null,
        primary key (root_id, user_id)
      )`.execute(db);

      await sql`create table chat.reactions (
        message_id uuid not null references chat.messages(id) on delete cascade,
        emoji text not null,
        user_id uuid not null,
        created_at timestamptz not null default now(),
        primary key (message_id, emoji, user_id)
      )`.execute(db);

      // A copy of each attachment's metadata (the bytes live in media), so a page of history needs no call.
      await sql`create table chat.attachments (
        id uuid primary key,
        message_id uuid not null references chat.messages(id) on delete cascade,
        channel_id uuid not null,
        uploader_id uuid not null,
        position smallint not null,
        name text not null,
        content_type text not null,
        kind text not null,
        bytes bigint not null,
        width integer,
        height integer,
        has_thumb boolean not null,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index attachments_message on chat.attachments (message_id, position)`.execute(db);
      await sql`create index attachments_channel on chat.attachments (channel_id)`.execute(db);

      // Auth's public handles (auth.user.registered), to resolve @mentions without reading auth's tables.
      await sql`create table chat.profiles (
        user_id uuid primary key,
        handle text not null
      )`.execute(db);
      await sql`create unique index profiles_handle on chat.profiles (lower(handle))`.execute(db);
    },
  },
  '0004_here_recipients': {
    async up(db) {
      // @here reaches the people who could read the channel and were online or idle when it was sent (or when an
      // edit added it); resolved once, on write, like the named mentions.
      await sql`alter table chat.messages add column here_ids uuid[] not null default '{}'`.execute(db);
    },
  },
  '0005_profile_versions': {
    async up(db) {
      // Handles change (auth.user.profile_changed): the version keeps a late or repeated event from undoing a newer one.
      await sql`alter table chat.profiles add column version integer not null default 0`.execute(db);
    },
  },
};
