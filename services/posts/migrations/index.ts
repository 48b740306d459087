import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/**
 * The posts service's own schema ("posts"). Communities, spaces and people live in other services: here only their
 * ids, and a projection of public profiles (handle -> id) to resolve @mentions.
 */
export const migrations: Migrations = {
  '0001_posts': {
    async up(db) {
      await sql`create table posts.posts (
        id uuid primary key,
        community_id uuid not null,
        space_id uuid not null,
        author_id uuid not null,
        title text,
        body text not null,
        body_html text not null,
        excerpt text not null,
        mentions uuid[] not null default '{}',
        status text not null default 'published' check (status in ('published', 'deleted', 'removed')),
        removal_reason text,
        removed_by uuid,
        pinned_at timestamptz,
        locked boolean not null default false,
        comment_count integer not null default 0,
        reaction_count integer not null default 0,
        -- What "top" sorts by: reactions plus twice the comments, kept with the counts.
        score integer not null default 0,
        created_at timestamptz not null default now(),
        edited_at timestamptz,
        last_activity_at timestamptz not null default now(),
        deleted_at timestamptz
      )`.execute(db);
      // Feeds read only published posts: one index per sort, per space and across a community.
      await sql`create index posts_space_new on posts.posts (space_id, created_at desc, id desc) where status = 'published'`.execute(db);
      await sql`create index posts_space_active on posts.posts (space_id, last_activity_at desc, id desc) where status = 'published'`.execute(db);
      await sql`create index posts_space_top on posts.posts (space_id, score desc, id desc) where status = 'published'`.execute(db);
      await sql`create index posts_community_new on posts.posts (community_id, created_at desc, id desc) where status = 'published'`.execute(db);
      await sql`create index posts_community_active on posts.posts (community_id, last_activity_at desc, id desc) where status = 'published'`.execute(db);
      await sql`create index posts_pinned on posts.posts (space_id, pinned_at desc) where pinned_at is not null and status = 'published'`.execute(db);

      await sql`create table posts.revisions (
        id uuid primary key,
        post_id uuid not null references posts.posts(id) on delete cascade,
        title text,
        body text not null,
        editor_id uuid not null,
        replaced_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index revisions_post on posts.revisions (post_id, replaced_at desc)`.execute(db);

      await sql`create table posts.comments (
        id uuid primary key,
        post_id uuid not null references posts.posts(id) on delete cascade,
        -- The top-level comment of the thread (itself for a top-level comment), so a page of threads loads in one query.
        root_id uuid not null,
        parent_id uuid references posts.comments(id) on delete cascade,
        depth smallint not null,
        author_id uuid not null,
        body text not null,
        body_html text not null,
        mentions uuid[] not null default '{}',
        status text not null default 'published' check (status in ('published', 'deleted', 'removed')),
        removal_reason text,
        removed_by uuid,
        reaction_count integer not null default 0,
        reply_count integer not null default 0,
        created_at timestamptz not null default now(),
        edited_at timestamptz
      )`.execute(db);
      await sql`create index comments_top_oldest on posts.comments (post_id, created_at, id) where depth = 0`.execute(db);
      await sql`create index comments_top_score on posts.comments (post_id, reaction_count desc, id desc) where depth = 0`.execute(db);
      await sql`create index comments_thread on posts.comments (root_id, created_at, id)`.execute(db);

      await sql`create table posts.reactions (
        target_id uuid not null,
        user_id uuid not null,
        emoji text not null,
        created_at timestamptz not null default now(),
        primary key (target_id, emoji, user_id)
      )`.execute(db);

      await sql`create table posts.polls (
        post_id uuid primary key references posts.posts(id) on delete cascade,
        question text,
        multiple_choice boolean not null,
        closes_at timestamptz,
        voter_count integer not null default 0
      )`.execute(db);
      await sql`create table posts.poll_options (
        id uuid primary key,
        post_id uuid not null references posts.polls(post_id) on delete cascade,
        position smallint not null,
        label text not null,
        votes integer not null default 0
      )`.execute(db);
      await sql`create index poll_options_post on posts.poll_options (post_id, position)`.execute(db);
      await sql`create table posts.poll_votes (
        post_id uuid not null references posts.polls(post_id) on delete cascade,
        user_id uuid not null,
        option_id uuid not null references posts.poll_options(id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (post_id, user_id, option_id)
      )`.execute(db);

      // A copy of each attachment's metadata (the bytes live in media), so feeds and the file library need no call.
      await sql`create table posts.attachments (
        id uuid primary key,
        post_id uuid not null references posts.posts(id) on delete cascade,
        community_id uuid not null,
        space_id uuid not null,
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
      await sql`create index attachments_post on posts.attachments (post_id, position)`.execute(db);
      await sql`create index attachments_library on posts.attachments (space_id, created_at desc, id desc)`.execute(db);

      await sql`create table posts.visits (
        user_id uuid not null,
        community_id uuid not null,
        seen_at timestamptz not null,
        primary key (user_id, community_id)
      )`.execute(db);

      await sql`create table posts.profiles (
        user_id uuid primary key,
        handle text not null
      )`.execute(db);
      await sql`create unique index profiles_handle on posts.profiles (lower(handle))`.execute(db);
    },
  },
  '0002_post_opens': {
    async up(db) {
      // Who opened which circle post (gated content), for the evidence a creator gives the bank in a dispute.
      await sql`create table posts.post_opens (
        user_id uuid not null,
        post_id uuid not null references posts.posts(id) on delete cascade,
        community_id uuid not null,
        space_id uuid not null,
        first_opened_at timestamptz not null default now(),
        last_opened_at timestamptz not null default now(),
        opens integer not null default 1,
        primary key (user_id, post_id)
      )`.execute(db);
      await sql`create index post_opens_member on posts.post_opens (community_id, user_id, last_opened_at desc)`.execute(db);
    },
  },
  '0003_profile_versions': {
    async up(db) {
      // Handles change (auth.user.profile_changed): the version keeps a late or repeated event from undoing a newer one.
      await sql`alter table posts.profiles add column version integer not null default 0`.execute(db);
    },
  },
};
