import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/** The community service's own schema ("community"). Users live in auth; here only ids and a profile projection. */
export const migrations: Migrations = {
  '0001_communities': {
    async up(db) {
      await sql`create table community.communities (
        id uuid primary key,
        slug text not null,
        name text not null,
        description text not null default '',
        category text,
        language text not null default 'en',
        visibility text not null check (visibility in ('listed', 'unlisted', 'private')),
        owner_id uuid not null,
        archived_at timestamptz,
        -- The audit chain's head, so deleting the newest records is detected too.
        audit_head_sequence integer not null default 0,
        audit_head_hash text not null default 'genesis',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index communities_slug_key on community.communities (lower(slug))`.execute(db);
      await sql`create index communities_listed on community.communities (created_at desc) where visibility = 'listed' and archived_at is null`.execute(db);

      await sql`create table community.spaces (
        id uuid primary key,
        community_id uuid not null references community.communities(id) on delete cascade,
        kind text not null check (kind in ('public_center', 'circle')),
        name text not null,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index spaces_one_public_center on community.spaces (community_id) where kind = 'public_center'`.execute(db);

      await sql`create table community.members (
        community_id uuid not null references community.communities(id) on delete cascade,
        user_id uuid not null,
        role text not null check (role in ('owner', 'admin', 'moderator', 'member')),
        joined_at timestamptz not null default now(),
        primary key (community_id, user_id)
      )`.execute(db);
      await sql`create index members_user on community.members (user_id)`.execute(db);

      // Projection of auth's public profiles, fed by auth's events: lets the member directory search names
      // without reading another service's tables.
      await sql`create table community.user_profiles (
        user_id uuid primary key,
        handle text not null,
        display_name text not null,
        updated_at timestamptz not null default now()
      )`.execute(db);

      // Hash-chained audit trail: each record's hash covers its content and the previous record's hash.
      await sql`create table community.audit_log (
        id uuid primary key,
        community_id uuid not null,
        sequence integer not null,
        actor_id uuid not null,
        action text not null,
        target_type text not null,
        target_id text not null,
        before jsonb,
        after jsonb,
        ip text,
        occurred_at timestamptz not null,
        prev_hash text not null,
        hash text not null,
        unique (community_id, sequence)
      )`.execute(db);
    },
  },
  '0002_moderation': {
    async up(db) {
      // A timed-out member stays a member but cannot take part (post, comment, chat, speak) until then.
      await sql`alter table community.members add column timed_out_until timestamptz, add column timeout_reason text`.execute(db);
      await sql`create table community.bans (
        community_id uuid not null references community.communities(id) on delete cascade,
        user_id uuid not null,
        reason text not null default '',
        expires_at timestamptz,
        banned_by uuid not null,
        created_at timestamptz not null default now(),
        primary key (community_id, user_id)
      )`.execute(db);
    },
  },
  '0003_invites_and_requests': {
    async up(db) {
      await sql`alter table community.communities
        add column join_policy text not null default 'open' check (join_policy in ('open', 'approval', 'invite')),
        add column join_questions jsonb not null default '[]'`.execute(db);
      await sql`create table community.invites (
        id uuid primary key,
        community_id uuid not null references community.communities(id) on delete cascade,
        code text not null unique,
        created_by uuid not null,
        expires_at timestamptz,
        max_uses integer,
        uses integer not null default 0,
        revoked_at timestamptz,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index invites_community on community.invites (community_id, created_at desc)`.execute(db);
      await sql`create table community.join_requests (
        id uuid primary key,
        community_id uuid not null references community.communities(id) on delete cascade,
        user_id uuid not null,
        answers jsonb not null default '[]',
        status text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
        decided_by uuid,
        decided_at timestamptz,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index join_requests_one_pending on community.join_requests (community_id, user_id) where status = 'pending'`.execute(db);
    },
  },
  '0004_circles': {
    async up(db) {
      await sql`alter table community.spaces
        add column description text not null default '',
        add column access text not null default 'open' check (access in ('open', 'approval', 'invite', 'paid')),
        add column hidden boolean not null default false,
        add column created_by uuid`.execute(db);
      await sql`create table community.circle_members (
        space_id uuid not null references community.spaces(id) on delete cascade,
        user_id uuid not null,
        role text not null check (role in ('host', 'member')),
        added_at timestamptz not null default now(),
        primary key (space_id, user_id)
      )`.execute(db);
      await sql`create index circle_members_user on community.circle_members (user_id)`.execute(db);
    },
  },
  '0005_custom_roles': {
    async up(db) {
      await sql`create table community.roles (
        id uuid primary key,
        community_id uuid not null references community.communities(id) on delete cascade,
        name text not null,
        permissions text[] not null default '{}',
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index roles_name_key on community.roles (community_id, lower(name))`.execute(db);
      await sql`create table community.member_roles (
        community_id uuid not null,
        user_id uuid not null,
        role_id uuid not null references community.roles(id) on delete cascade,
        primary key (community_id, user_id, role_id),
        foreign key (community_id, user_id) references community.members(community_id, user_id) on delete cascade
      )`.execute(db);
      // Per-space overrides for a built-in role ("member") or a custom role: permissions added and taken away there.
      await sql`create table community.space_overrides (
        space_id uuid not null references community.spaces(id) on delete cascade,
        subject text not null,
        allow text[] not null default '{}',
        deny text[] not null default '{}',
        primary key (space_id, subject)
      )`.execute(db);
    },
  },
  '0006_images': {
    async up(db) {
      // Images live in the media service; here only which one is used and its public path.
      await sql`alter table community.communities
        add column avatar_image_id uuid, add column avatar_url text,
        add column banner_image_id uuid, add column banner_url text`.execute(db);
      await sql`alter table community.spaces add column image_id uuid, add column image_url text`.execute(db);
    },
  },
  '0007_request_questions': {
    async up(db) {
      // The questions as they were asked, so answers keep their meaning when the owner rewords them later.
      await sql`alter table community.join_requests add column questions jsonb not null default '[]'`.execute(db);
    },
  },
  '0008_paid_access': {
    async up(db) {
      // Access granted by another service (payments: a subscription or purchase) as a source -> circles set. A
      // circle membership exists while an admin added the person (manual) or any grant names that circle.
      await sql`alter table community.circle_members add column manual boolean not null default true`.execute(db);
      await sql`create table community.access_grants (
        source text not null,
        space_id uuid not null references community.spaces(id) on delete cascade,
        community_id uuid not null references community.communities(id) on delete cascade,
        user_id uuid not null,
        granted_at timestamptz not null default now(),
        primary key (source, space_id)
      )`.execute(db);
      await sql`create index access_grants_member on community.access_grants (community_id, user_id)`.execute(db);
      // The newest version applied per source: an older state arriving late is ignored.
      await sql`create table community.grant_sources (
        source text primary key,
        community_id uuid not null,
        user_id uuid not null,
        version bigint not null
      )`.execute(db);
    },
  },
  '0009_profile_versions': {
    async up(db) {
      // Handles and names change (auth.user.profile_changed): the version keeps a late or repeated event from undoing a
      // newer one.
      await sql`alter table community.user_profiles add column version integer not null default 0`.execute(db);
    },
  },
};
