import type { Generated, Kysely } from 'kysely';
import type { FileKind, FileVariant, ImagePurpose } from '@circles/platform';
import type { Variant } from './images.ts';

/** One stored form of a file (the object at files/<id>/<name>). */
export interface FileVariantRow {
  name: FileVariant;
  bytes: number;
  contentType: string;
  width?: number;
  height?: number;
}

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
  'media.files': {
    id: string;
    owner_id: string;
    name: string;
    content_type: string;
    kind: FileKind;
    bytes: number;
    width: number | null;
    height: number | null;
    variants: FileVariantRow[];
    used_by: string | null;
    created_at: Generated<Date>;
    claimed_at: Date | null;
  };
}
export type MediaDb = Kysely<MediaTables>;
export type ImageRow = MediaTables['media.images'] & { created_at: Date };
export type FileRow = MediaTables['media.files'] & { created_at: Date };

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

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
    return (trx as MediaDb).selectFrom('media.images').selectAll().where('used_by', 'like', likePrefix(prefix)).execute();
  }

  unclaimedBefore(cutoff: Date, limit: number) {
    return this.db.selectFrom('media.images').selectAll().where('used_by', 'is', null).where('created_at', '<', cutoff).orderBy('created_at').limit(limit).execute();
  }

  insertFile(row: Omit<MediaTables['media.files'], 'used_by' | 'created_at' | 'claimed_at'>) {
    return this.db
      .insertInto('media.files')
      .values({ ...row, variants: JSON.stringify(row.variants) as never, used_by: null, claimed_at: null })
      .returningAll()
      .executeTakeFirstOrThrow() as Promise<FileRow>;
  }

  file(id: string) {
    return this.db.selectFrom('media.files').selectAll().where('id', '=', id).executeTakeFirst() as Promise<FileRow | undefined>;
  }

  /** The rows, locked until the transaction ends (a claim decides on them). */
  filesForUpdate(trx: MediaDb, ids: string[]) {
    return trx.selectFrom('media.files').selectAll().where('id', 'in', ids).forUpdate().execute() as Promise<FileRow[]>;
  }

  setFilesUsedBy(trx: MediaDb, ids: string[], usedBy: string) {
    return trx.updateTable('media.files').set({ used_by: usedBy, claimed_at: new Date() }).where('id', 'in', ids).returningAll().execute() as Promise<FileRow[]>;
  }

  deleteFiles(ids: string[], trx: Kysely<any> = this.db) {
    return (trx as MediaDb).deleteFrom('media.files').where('id', 'in', ids).returningAll().execute() as Promise<FileRow[]>;
  }

  /** Files used by anything whose usedBy starts with this prefix ("community:<id>:"), deleted; the rows that went. */
  deleteFilesUsedByPrefix(prefix: string, trx: Kysely<any> = this.db) {
    return (trx as MediaDb).deleteFrom('media.files').where('used_by', 'like', likePrefix(prefix)).returningAll().execute() as Promise<FileRow[]>;
  }

  unclaimedFilesBefore(cutoff: Date, limit: number) {
    return this.db.selectFrom('media.files').selectAll().where('used_by', 'is', null).where('created_at', '<', cutoff).orderBy('created_at').limit(limit).execute() as Promise<FileRow[]>;
  }
}
