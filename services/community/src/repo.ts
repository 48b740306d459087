import { type Generated, type Kysely, type Selectable, sql } from 'kysely';
import { type AuditContent, auditHash, GENESIS, type StoredAudit } from './audit.ts';
import type { CircleAccess, Grants, JoinPolicy, Override, Role, Visibility } from './policy.ts';

interface CommunitiesTable {
  id: string;
  slug: string;
  name: string;
  description: string;
  category: string | null;
  language: string;
  visibility: Visibility;
  join_policy: Generated<JoinPolicy>;
  join_questions: Generated<string[]>;
  owner_id: string;
  archived_at: Date | null;
  avatar_image_id: Generated<string | null>;
  avatar_url: Generated<string | null>;
  banner_image_id: Generated<string | null>;
  banner_url: Generated<string | null>;
  audit_head_sequence: Generated<number>;
  audit_head_hash: Generated<string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type CommunityRow = Selectable<CommunitiesTable>;

export interface CommunityTables {
  'community.communities': CommunitiesTable;
  'community.spaces': {
    id: string;
    community_id: string;
    kind: 'public_center' | 'circle';
    name: string;
    description: Generated<string>;
    access: Generated<CircleAccess>;
    hidden: Generated<boolean>;
    image_id: Generated<string | null>;
    image_url: Generated<string | null>;
    created_by: string | null;
    created_at: Generated<Date>;
  };
  'community.circle_members': { space_id: string; user_id: string; role: 'host' | 'member'; added_at: Generated<Date>; manual: Generated<boolean> };
  'community.access_grants': { source: string; space_id: string; community_id: string; user_id: string; granted_at: Generated<Date> };
  'community.grant_sources': { source: string; community_id: string; user_id: string; version: string | number };
  'community.members': { community_id: string; user_id: string; role: Role; joined_at: Generated<Date>; timed_out_until: Date | null; timeout_reason: string | null };
  'community.roles': { id: string; community_id: string; name: string; permissions: string[]; created_at: Generated<Date> };
  'community.member_roles': { community_id: string; user_id: string; role_id: string };
  'community.space_overrides': { space_id: string; subject: string; allow: string[]; deny: string[] };
  'community.invites': {
    id: string;
    community_id: string;
    code: string;
    created_by: string;
    expires_at: Date | null;
    max_uses: number | null;
    uses: Generated<number>;
    revoked_at: Date | null;
    created_at: Generated<Date>;
  };
  'community.join_requests': {
    id: string;
    community_id: string;
    user_id: string;
    answers: unknown;
    questions: Generated<unknown>;
    status: Generated<'pending' | 'approved' | 'rejected'>;
    decided_by: string | null;
    decided_at: Date | null;
    created_at: Generated<Date>;
  };
  'community.bans': { community_id: string; user_id: string; reason: string; expires_at: Date | null; banned_by: string; created_at: Generated<Date> };
  'community.user_profiles': { user_id: string; handle: string; display_name: string; updated_at: Generated<Date>; version: Generated<number> };
  'community.audit_log': {
    id: string;
    community_id: string;
    sequence: number;
    actor_id: string;
    action: string;
    target_type: string;
    target_id: string;
    before: unknown;
    after: unknown;
    ip: string | null;
    occurred_at: Date;
    prev_hash: string;
    hash: string;
  };
}
export type CommunityDb = Kysely<CommunityTables>;

/** Only this file writes SQL for the community schema. */
export class CommunityRepository {
  constructor(readonly db: CommunityDb) {}

  transaction<T>(fn: (trx: CommunityDb) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async insertCommunity(
    trx: CommunityDb,
    row: Omit<CommunityRow, 'archived_at' | 'avatar_image_id' | 'avatar_url' | 'banner_image_id' | 'banner_url' | 'audit_head_sequence' | 'audit_head_hash' | 'created_at' | 'updated_at' | 'join_questions'> & { join_questions: string[] },
    publicCenterId: string,
  ) {
    const community = await trx
      .insertInto('community.communities')
      .values({ ...row, join_questions: JSON.stringify(row.join_questions) as never, archived_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('community.spaces').values({ id: publicCenterId, community_id: row.id, kind: 'public_center', name: 'Public Center', created_by: row.owner_id }).execute();
    await trx.insertInto('community.members').values({ community_id: row.id, user_id: row.owner_id, role: 'owner', timed_out_until: null, timeout_reason: null }).execute();
    return community;
  }

  setCommunityImage(trx: CommunityDb, id: string, kind: 'avatar' | 'banner', image: { id: string; url: string } | null) {
    const patch = kind === 'avatar' ? { avatar_image_id: image?.id ?? null, avatar_url: image?.url ?? null } : { banner_image_id: image?.id ?? null, banner_url: image?.url ?? null };
    return trx.updateTable('community.communities').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  setCircleImage(trx: CommunityDb, id: string, image: { id: string; url: string } | null) {
    return trx.updateTable('community.spaces').set({ image_id: image?.id ?? null, image_url: image?.url ?? null }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  async updateCommunity(trx: CommunityDb, id: string, patch: Partial<Pick<CommunityRow, 'name' | 'description' | 'category' | 'language' | 'visibility' | 'join_policy' | 'join_questions'>>) {
    const { join_questions, ...rest } = patch;
    return trx
      .updateTable('community.communities')
      .set({ ...rest, ...(join_questions ? { join_questions: JSON.stringify(join_questions) as never } : {}), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  byId(id: string, trx: CommunityDb = this.db) {
    return trx.selectFrom('community.communities').selectAll().where('id', '=', id).executeTakeFirst();
  }

  bySlug(slug: string) {
    return this.db.selectFrom('community.communities').selectAll().where(sql`lower(slug)`, '=', slug.toLowerCase()).executeTakeFirst();
  }

  /** Listed communities, newest first; `after` is the id of the last one already seen (keyset paging). */
  async listed(limit: number, after?: string) {
    let q = this.db.selectFrom('community.communities').selectAll().where('visibility', '=', 'listed').where('archived_at', 'is', null);
    if (after) {
      const cursor = await this.db.selectFrom('community.communities').select(['created_at', 'id']).where('id', '=', after).executeTakeFirst();
      if (!cursor) return [];
      q = q.where((eb) => eb.or([eb('created_at', '<', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)])]));
    }
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  ofUser(userId: string) {
    return this.db
      .selectFrom('community.communities as c')
      .innerJoin('community.members as m', 'm.community_id', 'c.id')
      .selectAll('c')
      .where('m.user_id', '=', userId)
      .orderBy('m.joined_at', 'desc')
      .execute();
  }

  publicCenter(communityId: string) {
    return this.db.selectFrom('community.spaces').selectAll().where('community_id', '=', communityId).where('kind', '=', 'public_center').executeTakeFirstOrThrow();
  }

  space(id: string) {
    return this.db.selectFrom('community.spaces').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async role(communityId: string, userId: string, trx: CommunityDb = this.db): Promise<Role | null> {
    const row = await trx.selectFrom('community.members').select('role').where('community_id', '=', communityId).where('user_id', '=', userId).executeTakeFirst();
    return row?.role ?? null;
  }

  async memberCount(communityId: string): Promise<number> {
    const row = await this.db.selectFrom('community.members').select((eb) => eb.fn.countAll<number>().as('n')).where('community_id', '=', communityId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Inserts the membership unless it exists; true when the user was not a member before. */
  async addMember(trx: CommunityDb, communityId: string, userId: string, role: Role): Promise<boolean> {
    const r = await trx.insertInto('community.members').values({ community_id: communityId, user_id: userId, role, timed_out_until: null, timeout_reason: null }).onConflict((oc) => oc.columns(['community_id', 'user_id']).doNothing()).returning('user_id').execute();
    // Someone who still pays for circles here (and left or was removed meanwhile) is back in them on rejoining.
    if (r.length) await this.materializeGrants(trx, communityId, userId);
    return r.length > 0;
  }

  /** Circle memberships for every granted circle of this member that they are not yet in. Returns the circles added. */
  async materializeGrants(trx: CommunityDb, communityId: string, userId: string, spaceIds?: string[]): Promise<string[]> {
    const { rows } = await sql<{ space_id: string }>`
      insert into community.circle_members (space_id, user_id, role, manual)
      select distinct g.space_id, g.user_id, 'member', false from community.access_grants g
      where g.community_id = ${communityId}::uuid and g.user_id = ${userId}::uuid
        ${spaceIds ? sql`and g.space_id = any(${spaceIds}::uuid[])` : sql``}
        and exists (select 1 from community.members m where m.community_id = g.community_id and m.user_id = g.user_id)
      on conflict (space_id, user_id) do nothing
      returning space_id`.execute(trx);
    return rows.map((r) => r.space_id);
  }

  /** Takes a newer version of a grant source; false when this version (or a newer one) was applied already. */
  async acceptGrantVersion(trx: CommunityDb, source: string, communityId: string, userId: string, version: number): Promise<boolean> {
    const { rows } = await sql<{ source: string }>`
      insert into community.grant_sources (source, community_id, user_id, version) values (${source}, ${communityId}::uuid, ${userId}::uuid, ${version})
      on conflict (source) do update set version = excluded.version where community.grant_sources.version < excluded.version
      returning source`.execute(trx);
    return rows.length > 0;
  }

  async grantedSpaces(trx: CommunityDb, source: string): Promise<string[]> {
    return (await trx.selectFrom('community.access_grants').select('space_id').where('source', '=', source).execute()).map((r) => r.space_id);
  }

  async addGrants(trx: CommunityDb, source: string, communityId: string, userId: string, spaceIds: string[]): Promise<void> {
    if (!spaceIds.length) return;
    await trx
      .insertInto('community.access_grants')
      .values(spaceIds.map((space_id) => ({ source, space_id, community_id: communityId, user_id: userId })))
      .onConflict((oc) => oc.columns(['source', 'space_id']).doNothing())
      .execute();
  }

  /** Drops a source's grants for these circles; returns the circles the person is no longer in as a result. */
  async dropGrants(trx: CommunityDb, source: string, userId: string, spaceIds: string[]): Promise<string[]> {
    if (!spaceIds.length) return [];
    await trx.deleteFrom('community.access_grants').where('source', '=', source).where('space_id', 'in', spaceIds).execute();
    const { rows } = await sql<{ space_id: string }>`
      delete from community.circle_members cm
      where cm.user_id = ${userId}::uuid and cm.space_id = any(${spaceIds}::uuid[]) and not cm.manual
        and not exists (select 1 from community.access_grants g where g.space_id = cm.space_id and g.user_id = cm.user_id)
      returning cm.space_id`.execute(trx);
    return rows.map((r) => r.space_id);
  }

  /** Whether anything besides an admin grants this person this circle (a subscription, a purchase). */
  async hasGrant(spaceId: string, userId: string, trx: CommunityDb = this.db): Promise<boolean> {
    return !!(await trx.selectFrom('community.access_grants').select('source').where('space_id', '=', spaceId).where('user_id', '=', userId).executeTakeFirst());
  }

  async grantedUsers(spaceId: string): Promise<Set<string>> {
    return new Set((await this.db.selectFrom('community.access_grants').select('user_id').where('space_id', '=', spaceId).execute()).map((r) => r.user_id));
  }

  async removeMember(trx: CommunityDb, communityId: string, userId: string): Promise<boolean> {
    await this.removeFromAllCircles(trx, communityId, userId);
    const r = await trx.deleteFrom('community.members').where('community_id', '=', communityId).where('user_id', '=', userId).returning('user_id').execute();
    return r.length > 0;
  }

  /** Members with the given search over the profile projection (handle or display name). */
  members(communityId: string, search: string | null, limit: number) {
    let q = this.db
      .selectFrom('community.members as m')
      .leftJoin('community.user_profiles as p', 'p.user_id', 'm.user_id')
      .select(['m.community_id', 'm.user_id', 'm.role', 'm.joined_at', 'm.timed_out_until'])
      .where('m.community_id', '=', communityId)
      .orderBy('m.joined_at')
      .limit(limit);
    if (search) {
      const like = `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb.or([eb(sql`lower(p.handle)`, 'like', like), eb(sql`lower(p.display_name)`, 'like', like)]));
    }
    return q.execute();
  }

  member(communityId: string, userId: string, trx: CommunityDb = this.db) {
    return trx.selectFrom('community.members').selectAll().where('community_id', '=', communityId).where('user_id', '=', userId).executeTakeFirst();
  }

  /** Role, timeout and custom roles of a member, for the policy. */
  async grants(communityId: string, userId: string): Promise<Grants> {
    const member = await this.member(communityId, userId);
    if (!member) return { role: null, timedOutUntil: null, customRoleIds: [], customPermissions: [] };
    const custom = await this.db
      .selectFrom('community.member_roles as mr')
      .innerJoin('community.roles as r', 'r.id', 'mr.role_id')
      .select(['r.id', 'r.permissions'])
      .where('mr.community_id', '=', communityId)
      .where('mr.user_id', '=', userId)
      .execute();
    return {
      role: member.role,
      timedOutUntil: member.timed_out_until,
      customRoleIds: custom.map((c) => c.id),
      customPermissions: [...new Set(custom.flatMap((c) => c.permissions))] as Grants['customPermissions'],
    };
  }

  overrides(spaceId: string): Promise<Override[]> {
    return this.db.selectFrom('community.space_overrides').select(['subject', 'allow', 'deny']).where('space_id', '=', spaceId).execute();
  }

  async setOverride(trx: CommunityDb, o: { space_id: string; subject: string; allow: string[]; deny: string[] }) {
    if (!o.allow.length && !o.deny.length) {
      await trx.deleteFrom('community.space_overrides').where('space_id', '=', o.space_id).where('subject', '=', o.subject).execute();
      return o;
    }
    return trx
      .insertInto('community.space_overrides')
      .values(o)
      .onConflict((oc) => oc.columns(['space_id', 'subject']).doUpdateSet({ allow: o.allow, deny: o.deny }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  customRoles(communityId: string) {
    return this.db.selectFrom('community.roles').selectAll().where('community_id', '=', communityId).orderBy('created_at').execute();
  }

  customRole(id: string) {
    return this.db.selectFrom('community.roles').selectAll().where('id', '=', id).executeTakeFirst();
  }

  insertRole(trx: CommunityDb, row: { id: string; community_id: string; name: string; permissions: string[] }) {
    return trx.insertInto('community.roles').values(row).returningAll().executeTakeFirstOrThrow();
  }

  updateRole(trx: CommunityDb, id: string, patch: { name?: string; permissions?: string[] }) {
    return trx.updateTable('community.roles').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  async deleteRole(trx: CommunityDb, id: string) {
    await trx.deleteFrom('community.space_overrides').where('subject', '=', id).execute();
    await trx.deleteFrom('community.roles').where('id', '=', id).execute();
  }

  async assignRole(trx: CommunityDb, communityId: string, userId: string, roleId: string): Promise<boolean> {
    const r = await trx.insertInto('community.member_roles').values({ community_id: communityId, user_id: userId, role_id: roleId }).onConflict((oc) => oc.doNothing()).returning('role_id').execute();
    return r.length > 0;
  }

  async unassignRole(trx: CommunityDb, communityId: string, userId: string, roleId: string): Promise<boolean> {
    const r = await trx.deleteFrom('community.member_roles').where('community_id', '=', communityId).where('user_id', '=', userId).where('role_id', '=', roleId).returning('role_id').execute();
    return r.length > 0;
  }

  async setRole(trx: CommunityDb, communityId: string, userId: string, role: Role) {
    return trx.updateTable('community.members').set({ role }).where('community_id', '=', communityId).where('user_id', '=', userId).returningAll().executeTakeFirstOrThrow();
  }

  async setTimeout(trx: CommunityDb, communityId: string, userId: string, until: Date | null, reason: string | null) {
    return trx
      .updateTable('community.members')
      .set({ timed_out_until: until, timeout_reason: reason })
      .where('community_id', '=', communityId)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async setArchived(trx: CommunityDb, id: string, archived: boolean) {
    return trx.updateTable('community.communities').set({ archived_at: archived ? new Date() : null, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  /** Spaces, members, invites, requests and bans go with it (ON DELETE CASCADE); the audit log is kept. */
  async deleteCommunity(trx: CommunityDb, id: string) {
    await trx.deleteFrom('community.communities').where('id', '=', id).execute();
  }

  async setOwner(trx: CommunityDb, communityId: string, ownerId: string) {
    await trx.updateTable('community.communities').set({ owner_id: ownerId, updated_at: new Date() }).where('id', '=', communityId).execute();
  }

  async upsertBan(trx: CommunityDb, ban: { community_id: string; user_id: string; reason: string; expires_at: Date | null; banned_by: string }) {
    return trx
      .insertInto('community.bans')
      .values(ban)
      .onConflict((oc) => oc.columns(['community_id', 'user_id']).doUpdateSet({ reason: ban.reason, expires_at: ban.expires_at, banned_by: ban.banned_by, created_at: new Date() }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async deleteBan(trx: CommunityDb, communityId: string, userId: string): Promise<boolean> {
    const r = await trx.deleteFrom('community.bans').where('community_id', '=', communityId).where('user_id', '=', userId).returning('user_id').execute();
    return r.length > 0;
  }

  /** The ban in force now, if any (an expired ban is lifted simply by no longer counting). */
  activeBan(communityId: string, userId: string) {
    return this.db
      .selectFrom('community.bans')
      .selectAll()
      .where('community_id', '=', communityId)
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
      .executeTakeFirst();
  }

  activeBans(communityId: string) {
    return this.db
      .selectFrom('community.bans')
      .selectAll()
      .where('community_id', '=', communityId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
      .orderBy('created_at', 'desc')
      .execute();
  }

  async insertCircle(trx: CommunityDb, row: { id: string; community_id: string; name: string; description: string; access: CircleAccess; hidden: boolean; created_by: string }) {
    const circle = await trx.insertInto('community.spaces').values({ ...row, kind: 'circle' }).returningAll().executeTakeFirstOrThrow();
    await trx.insertInto('community.circle_members').values({ space_id: row.id, user_id: row.created_by, role: 'host' }).execute();
    return circle;
  }

  updateCircle(trx: CommunityDb, id: string, patch: { name?: string; description?: string; access?: 'open' | 'approval' | 'invite' | 'paid'; hidden?: boolean }) {
    return trx.updateTable('community.spaces').set(patch).where('id', '=', id).where('kind', '=', 'circle').returningAll().executeTakeFirstOrThrow();
  }

  /** Members and overrides go with it (foreign keys cascade). */
  async deleteCircle(trx: CommunityDb, id: string) {
    await trx.deleteFrom('community.spaces').where('id', '=', id).where('kind', '=', 'circle').execute();
  }

  /** Custom roles held by each of these members, for the directory. */
  async customRolesOf(communityId: string, userIds: string[]) {
    if (!userIds.length) return new Map<string, { id: string; name: string; permissions: string[] }[]>();
    const rows = await this.db
      .selectFrom('community.member_roles as mr')
      .innerJoin('community.roles as r', 'r.id', 'mr.role_id')
      .select(['mr.user_id', 'r.id', 'r.name', 'r.permissions'])
      .where('mr.community_id', '=', communityId)
      .where('mr.user_id', 'in', userIds)
      .orderBy('r.created_at')
      .execute();
    const byUser = new Map<string, { id: string; name: string; permissions: string[] }[]>();
    for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), { id: r.id, name: r.name, permissions: r.permissions }]);
    return byUser;
  }

  circles(communityId: string) {
    return this.db.selectFrom('community.spaces').selectAll().where('community_id', '=', communityId).where('kind', '=', 'circle').orderBy('created_at').execute();
  }

  async circleRoleOf(spaceId: string, userId: string, trx: CommunityDb = this.db): Promise<'host' | 'member' | null> {
    const row = await trx.selectFrom('community.circle_members').select('role').where('space_id', '=', spaceId).where('user_id', '=', userId).executeTakeFirst();
    return row?.role ?? null;
  }

  /** The circles of a community this user belongs to. */
  async circleIdsOf(communityId: string, userId: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('community.circle_members as cm')
      .innerJoin('community.spaces as s', 's.id', 'cm.space_id')
      .select('cm.space_id')
      .where('s.community_id', '=', communityId)
      .where('cm.user_id', '=', userId)
      .execute();
    return new Set(rows.map((r) => r.space_id));
  }

  /** Which of `others` are members of a community `userId` is a member of, neither of them under a ban there. */
  async sharingACommunity(userId: string, others: string[]): Promise<string[]> {
    if (!others.length) return [];
    const { rows } = await sql<{ user_id: string }>`
      select distinct o.user_id from community.members o
      join community.members m on m.community_id = o.community_id and m.user_id = ${userId}::uuid
      where o.user_id = any(${others}::uuid[])
        and not exists (select 1 from community.bans b where b.community_id = o.community_id
          and b.user_id in (o.user_id, m.user_id) and (b.expires_at is null or b.expires_at > now()))`.execute(this.db);
    return rows.map((r) => r.user_id);
  }

  /** Members among userIds (none banned), each with what the policy needs and whether they are in the space's circle. */
  async membersAmong(communityId: string, spaceId: string, userIds: string[]) {
    const { rows } = await sql<{ user_id: string; role: Role; timed_out_until: Date | null; in_circle: boolean; custom_role_ids: string[]; custom_permissions: string[] }>`
      select m.user_id, m.role, m.timed_out_until,
        exists (select 1 from community.circle_members cm where cm.space_id = ${spaceId}::uuid and cm.user_id = m.user_id) as in_circle,
        array(select mr.role_id from community.member_roles mr where mr.community_id = m.community_id and mr.user_id = m.user_id) as custom_role_ids,
        array(select distinct p from community.member_roles mr join community.roles r on r.id = mr.role_id, unnest(r.permissions) p
          where mr.community_id = m.community_id and mr.user_id = m.user_id) as custom_permissions
      from community.members m
      where m.community_id = ${communityId}::uuid and m.user_id = any(${userIds}::uuid[])
        and not exists (select 1 from community.bans b where b.community_id = m.community_id and b.user_id = m.user_id
          and (b.expires_at is null or b.expires_at > now()))`.execute(this.db);
    return rows;
  }

  circleMembers(spaceId: string) {
    return this.db.selectFrom('community.circle_members').selectAll().where('space_id', '=', spaceId).orderBy('added_at').limit(1000).execute();
  }

  async circleMemberCount(spaceId: string): Promise<number> {
    const row = await this.db.selectFrom('community.circle_members').select((eb) => eb.fn.countAll<number>().as('n')).where('space_id', '=', spaceId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async addCircleMember(trx: CommunityDb, spaceId: string, userId: string, role: 'host' | 'member') {
    return trx
      .insertInto('community.circle_members')
      .values({ space_id: spaceId, user_id: userId, role, manual: true })
      .onConflict((oc) => oc.columns(['space_id', 'user_id']).doUpdateSet({ role, manual: true }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async removeCircleMember(trx: CommunityDb, spaceId: string, userId: string): Promise<boolean> {
    const r = await trx.deleteFrom('community.circle_members').where('space_id', '=', spaceId).where('user_id', '=', userId).returning('user_id').execute();
    return r.length > 0;
  }

  /** Leaving, removal or a ban ends every circle membership in that community too. */
  async removeFromAllCircles(trx: CommunityDb, communityId: string, userId: string): Promise<void> {
    await trx
      .deleteFrom('community.circle_members')
      .where('user_id', '=', userId)
      .where('space_id', 'in', (eb) => eb.selectFrom('community.spaces').select('id').where('community_id', '=', communityId))
      .execute();
  }

  async insertInvite(row: { id: string; community_id: string; code: string; created_by: string; expires_at: Date | null; max_uses: number | null }) {
    return this.db.insertInto('community.invites').values({ ...row, revoked_at: null }).returningAll().executeTakeFirstOrThrow();
  }

  invite(id: string) {
    return this.db.selectFrom('community.invites').selectAll().where('id', '=', id).executeTakeFirst();
  }

  inviteByCode(code: string) {
    return this.db.selectFrom('community.invites').selectAll().where('code', '=', code).executeTakeFirst();
  }

  /** A community's invite links, newest first; only those one person made when `createdBy` is given. */
  invites(communityId: string, createdBy?: string) {
    let q = this.db.selectFrom('community.invites').selectAll().where('community_id', '=', communityId);
    if (createdBy) q = q.where('created_by', '=', createdBy);
    return q.orderBy('created_at', 'desc').limit(200).execute();
  }

  async revokeInvite(trx: CommunityDb, id: string): Promise<boolean> {
    const r = await trx.updateTable('community.invites').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).returning('id').execute();
    return r.length > 0;
  }

  /** Spends one use of a live invite, atomically: concurrent redeemers cannot exceed max uses. */
  async spendInvite(trx: CommunityDb, code: string) {
    return trx
      .updateTable('community.invites')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('code', '=', code)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .returningAll()
      .executeTakeFirst();
  }

  async insertJoinRequest(trx: CommunityDb, row: { id: string; community_id: string; user_id: string; answers: string[]; questions: string[] }) {
    return trx
      .insertInto('community.join_requests')
      .values({ ...row, answers: JSON.stringify(row.answers), questions: JSON.stringify(row.questions), decided_by: null, decided_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  joinRequest(id: string, trx: CommunityDb = this.db) {
    return trx.selectFrom('community.join_requests').selectAll().where('id', '=', id).executeTakeFirst();
  }

  pendingRequestOf(communityId: string, userId: string) {
    return this.db.selectFrom('community.join_requests').selectAll().where('community_id', '=', communityId).where('user_id', '=', userId).where('status', '=', 'pending').executeTakeFirst();
  }

  joinRequests(communityId: string, status: 'pending' | 'approved' | 'rejected') {
    return this.db.selectFrom('community.join_requests').selectAll().where('community_id', '=', communityId).where('status', '=', status).orderBy('created_at').limit(500).execute();
  }

  /** Decides a pending request; undefined when it was already decided (two moderators at once). */
  async decideJoinRequest(trx: CommunityDb, id: string, status: 'approved' | 'rejected', by: string) {
    return trx
      .updateTable('community.join_requests')
      .set({ status, decided_by: by, decided_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
  }

  /** A person's handle and name as auth last said (registration or a change), unless a newer version is already here. */
  async upsertProfile(trx: CommunityDb, p: { userId: string; handle: string; displayName: string; version: number }) {
    await sql`insert into community.user_profiles (user_id, handle, display_name, version) values (${p.userId}::uuid, ${p.handle}, ${p.displayName}, ${p.version})
      on conflict (user_id) do update set handle = excluded.handle, display_name = excluded.display_name, version = excluded.version, updated_at = now()
      where community.user_profiles.version <= excluded.version`.execute(trx);
  }

  /** Appends to a community's audit chain. Serialised per community so sequence numbers and hashes stay a chain. */
  async appendAudit(trx: CommunityDb, entry: Omit<AuditContent, 'sequence' | 'occurredAt'>): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${'audit:' + entry.communityId}))`.execute(trx);
    const head = await trx.selectFrom('community.communities').select(['audit_head_sequence', 'audit_head_hash']).where('id', '=', entry.communityId).executeTakeFirstOrThrow();
    const content: AuditContent = { ...entry, sequence: head.audit_head_sequence + 1, occurredAt: new Date().toISOString() };
    const prevHash = head.audit_head_sequence === 0 ? GENESIS : head.audit_head_hash;
    const hash = auditHash(prevHash, content);
    await trx
      .insertInto('community.audit_log')
      .values({
        id: crypto.randomUUID(),
        community_id: content.communityId,
        sequence: content.sequence,
        actor_id: content.actorId,
        action: content.action,
        target_type: content.targetType,
        target_id: content.targetId,
        before: content.before === null ? null : JSON.stringify(content.before),
        after: content.after === null ? null : JSON.stringify(content.after),
        ip: content.ip,
        occurred_at: new Date(content.occurredAt),
        prev_hash: prevHash,
        hash,
      })
      .execute();
    await trx.updateTable('community.communities').set({ audit_head_sequence: content.sequence, audit_head_hash: hash }).where('id', '=', entry.communityId).execute();
  }

  async auditRecords(communityId: string, opts: { action?: string; limit?: number; order: 'asc' | 'desc' }): Promise<(StoredAudit & { id: string })[]> {
    let q = this.db.selectFrom('community.audit_log').selectAll().where('community_id', '=', communityId).orderBy('sequence', opts.order);
    if (opts.action) q = q.where('action', '=', opts.action);
    if (opts.limit) q = q.limit(opts.limit);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id,
      communityId: r.community_id,
      sequence: r.sequence,
      actorId: r.actor_id,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      before: r.before ?? null,
      after: r.after ?? null,
      ip: r.ip,
      occurredAt: new Date(r.occurred_at).toISOString(),
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  }

  async auditHead(communityId: string) {
    const row = await this.db.selectFrom('community.communities').select(['audit_head_sequence', 'audit_head_hash']).where('id', '=', communityId).executeTakeFirst();
    return row ? { sequence: row.audit_head_sequence, hash: row.audit_head_hash } : null;
  }
}
