import type { Migrations } from '@circles/platform';
import { sql } from 'kysely';

/**
 * The media service's own schema ("media"): one row per uploaded image (avatars, banners, circle images) or file
 * (attachments), its stored forms and what uses it.
 */
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
  '0002_files': {
    async up(db) {
      await sql`create table media.files (
        id uuid primary key,
        owner_id uuid not null,
        -- The uploader's name made safe (no path, no control or bidi characters); never part of a storage key.
        name text not null check (length(name) between 1 and 200),
        -- What the bytes really are (sniffed); active content (SVG, HTML, XML) is stored as application/octet-stream.
        content_type text not null,
        kind text not null check (kind in ('image', 'video', 'audio', 'document', 'archive', 'text', 'other')),
        -- Size of the download (the re-encoded main size for images); MEDIA_MAX_FILE_BYTES is at most 1 GiB.
        bytes integer not null,
        width integer,
        height integer,
        -- Stored forms: [{ name: original|main|thumb, bytes, contentType, width?, height? }].
        variants jsonb not null,
        -- What the file is attached to once claimed ("community:<cid>:circle:<sid>:post:<pid>"); unclaimed uploads
        -- are swept after a day.
        used_by text,
        created_at timestamptz not null default now(),
        claimed_at timestamptz
      )`.execute(db);
      await sql`create index files_unclaimed on media.files (created_at) where used_by is null`.execute(db);
      await sql`create index files_used_by on media.files (used_by text_pattern_ops) where used_by is not null`.execute(db);
    },
  },
};
