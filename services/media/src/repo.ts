import type { Generated, Kysely } from 'kysely';
import type { ImagePurpose } from '@circles/platform';
import type { Variant } from './images.ts';

export interface MediaTables {
  'media.images': {
    id: string;
    owner_id: string;
    purpose: ImagePurpose;
    source_type: string;
    source_bytes: number;
    variants: Variant[];
    used_by: string | null;
    created_at: Generated<Date>;
    claimed_at: Date | null;
  };
}
export type MediaDb = Kysely<MediaTables>;
export type ImageRow = MediaTables['media.images'] & { created_at: Date };

export class MediaRepository {
  constructor(readonly db: MediaDb) {}

  insertImage(row: { id: string; owner_id: string; purpose: ImagePurpose; source_type: string; source_bytes: number; variants: Variant[] }) {
    return this.db
      .insertInto('media.images')
      .values({ ...row, variants: JSON.stringify(row.variants) as never, used_by: null, claimed_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  image(id: string) {
    return this.db.selectFrom('media.images').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Claims an unclaimed upload (or re-claims one already used by the same thing); undefined when refused. */
  claim(id: string, ownerId: string, purpose: ImagePurpose, usedBy: string) {
    return this.db
      .updateTable('media.images')
      .set({ used_by: usedBy, claimed_at: new Date() })
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .where('purpose', '=', purpose)
      .where((eb) => eb.or([eb('used_by', 'is', null), eb('used_by', '=', usedBy)]))
      .returningAll()
      .executeTakeFirst();
  }

  deleteImage(id: string) {
    return this.db.deleteFrom('media.images').where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** Images used by anything whose usedBy starts with this prefix ("community:<id>:"). */
  usedByPrefix(prefix: string, trx: Kysely<any> = this.db) {
    const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return (trx as MediaDb).selectFrom('media.images').selectAll().where('used_by', 'like', like).execute();
  }

  unclaimedBefore(cutoff: Date, limit: number) {
    return this.db.selectFrom('media.images').selectAll().where('used_by', 'is', null).where('created_at', '<', cutoff).orderBy('created_at').limit(limit).execute();
  }
}
