import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/** The media service's own schema ("media"): one row per uploaded image, its stored sizes and what uses it. */
export const migrations: Migrations = {
  '0001_images': {
    async up(db) {
      await sql`create table media.images (
        id uuid primary key,
        owner_id uuid not null,
        purpose text not null check (purpose in ('community_avatar', 'community_banner', 'circle_image')),
        -- The format the bytes really were (sniffed), and their size before re-encoding.
        source_type text not null,
        source_bytes integer not null,
        variants jsonb not null,
        -- What the image belongs to once claimed ("community:<id>:avatar"); unclaimed uploads are swept after a day.
        used_by text,
        created_at timestamptz not null default now(),
        claimed_at timestamptz
      )`.execute(db);
      await sql`create index images_unclaimed on media.images (created_at) where used_by is null`.execute(db);
      await sql`create index images_used_by on media.images (used_by) where used_by is not null`.execute(db);
    },
  },
};
