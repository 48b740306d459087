import { badInput, type CommunityInfo, type Identity, invalidateCommunityPermissions, type SpaceAccess, type ReadableSpace, isUniqueViolation, newId, newSecretToken, type ServiceDeps, unauthenticated } from '@circles/platform';
import type { Kysely } from 'kysely';
import { verifyChain } from './audit.ts';
import { communityErrors } from './errors.ts';
import { answers, reasonInput, createCircleInput, createCommunityInput, parse, reservedSlugs, roleNameInput, updateCircleInput, updateCommunityInput } from './inputs.ts';
import { canSee, effectivePermissions, effectiveRank, type Grants, type Permission, participation, permissions, rank, type Role } from './policy.ts';
import { type CommunityDb, type CommunityRow, CommunityRepository } from './repo.ts';

/** Ids from other services are checked before they reach SQL (a malformed one is simply not found). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ModerationEvent {
  communityId: string;
  spaceId: string;
  postId: string;
  commentId?: string;
  authorId: string;
  moderatorId: string;
  reason?: string;
  ip?: string | null;
}

/** `payments.entitlements_changed`: the circles one subscription or purchase grants now (empty: none). */
export interface EntitlementsChanged {
  source: string;
  communityId: string;
  userId: string;
  circleIds: string[];
  version: number;
}

export const communityTopics = {
  created: 'community.created',
  updated: 'community.updated',
  memberJoined: 'community.member_joined',
  memberLeft: 'community.member_left',
  memberRemoved: 'community.member_removed',
  memberBanned: 'community.member_banned',
  memberUnbanned: 'community.member_unbanned',
  memberTimedOut: 'community.member_timed_out',
  roleChanged: 'community.role_changed',
  ownershipTransferred: 'community.ownership_transferred',
  archived: 'community.archived',
  unarchived: 'community.unarchived',
  deleted: 'community.deleted',
  circleCreated: 'community.circle_created',
  circleUpdated: 'community.circle_updated',
  circleDeleted: 'community.circle_deleted',
  circleMemberAdded: 'community.circle_member_added',
  circleMemberRemoved: 'community.circle_member_removed',
} as const;

const MAX_TIMEOUT_S = 28 * 86_400;
const MAX_BAN_S = 10 * 365 * 86_400;

/** The rules of communities and membership. Resolvers only translate. */
export class CommunityService {
  readonly repo: CommunityRepository;

  constructor(private readonly deps: ServiceDeps) {
    this.repo = new CommunityRepository(deps.db as CommunityDb);
  }

  private requireUser(identity: Identity): string {
    if (!identity.userId) throw unauthenticated();
    return identity.userId;
  }

  roleOf(communityId: string, userId: string | null): Promise<Role | null> {
    return userId ? this.repo.role(communityId, userId) : Promise.resolve(null);
  }

  /** The community if the caller may see it, else null (private ones stay invisible to outsiders). */
  async visible(row: CommunityRow | undefined, identity: Identity): Promise<CommunityRow | null> {
    if (!row) return null;
    return canSee(row.visibility, await this.roleOf(row.id, identity.userId)) ? row : null;
  }

  async bySlug(slug: string, identity: Identity) {
    return this.visible(await this.repo.bySlug(slug), identity);
  }

  async byId(id: string, identity: Identity) {
    return this.visible(await this.repo.byId(id), identity);
  }

  directory(limit: number, after?: string | null) {
    if (after && !/^[0-9a-f-]{36}$/i.test(after)) throw badInput('Not a community id.', 'after');
    return this.repo.listed(Math.min(Math.max(limit, 1), 1000), after ?? undefined);
  }

  mine(identity: Identity) {
    return this.repo.ofUser(this.requireUser(identity));
  }

  private async require(communityId: string, identity: Identity, permission: Permission): Promise<{ community: CommunityRow; userId: string; role: Role; grants: Grants }> {
    const userId = this.requireUser(identity);
    const community = await this.repo.byId(communityId);
    const grants = community ? await this.repo.grants(communityId, userId) : null;
    if (!community || !grants || !canSee(community.visibility, grants.role)) throw communityErrors.notFound();
    if (!effectivePermissions(grants).has(permission)) throw communityErrors.notAllowed();
    return { community, userId, role: grants.role!, grants };
  }

  /** The one policy question other code asks: may this user do this in this community right now? */
  async can(userId: string | null, permission: string, communityId: string, spaceId?: string): Promise<boolean> {
    if (!(permissions as readonly string[]).includes(permission)) throw badInput(`Unknown permission "${permission}".`, 'permission');
    if (!userId) return false;
    const grants = await this.repo.grants(communityId, userId);
    if (!grants.role) return false;
    // An archived community is read-only: nobody posts, comments, chats, speaks or invites until it is unarchived.
    if (participation.has(permission as Permission) || permission === 'invite') {
      const community = await this.repo.byId(communityId);
      if (!community || community.archived_at) return false;
    }
    if (!spaceId) return effectivePermissions(grants).has(permission as Permission);
    const space = await this.repo.space(spaceId);
    if (!space || space.community_id !== communityId) return false;
    const inSpace = effectivePermissions(grants, await this.repo.overrides(spaceId));
    if (!inSpace.has(permission as Permission)) return false;
    // In a circle you also need its membership, unless you manage circles.
    return space.kind === 'public_center' || (await this.repo.circleRoleOf(spaceId, userId)) !== null || effectivePermissions(grants).has('manage_circles');
  }

  /** Whether a user (or an anonymous visitor) may read a space's content; null when its existence is hidden from them. */
  async spaceAccess(userId: string | null, communityId: string, spaceId: string): Promise<SpaceAccess | null> {
    const [community, space] = await Promise.all([this.repo.byId(communityId), this.repo.space(spaceId)]);
    if (!community || !space || space.community_id !== communityId) return null;
    const grants = userId ? await this.repo.grants(communityId, userId) : null;
    const role = grants?.role ?? null;
    if (!canSee(community.visibility, role)) return null;
    if (space.kind === 'public_center') {
      const isPublic = community.visibility !== 'private';
      return { kind: 'public_center', public: isPublic, readable: isPublic || role !== null, member: role !== null };
    }
    const inCircle = userId ? (await this.repo.circleRoleOf(spaceId, userId)) !== null : false;
    const readable = role !== null && (inCircle || effectivePermissions(grants!).has('manage_circles'));
    if (space.hidden && !readable) return null;
    return { kind: 'circle', public: false, readable, member: role !== null };
  }

  /** Every space of a community this user (or an anonymous visitor) may read; null when the community is hidden from them. */
  async readableSpaces(userId: string | null, communityId: string): Promise<ReadableSpace[] | null> {
    const community = await this.repo.byId(communityId);
    if (!community) return null;
    const grants = userId ? await this.repo.grants(communityId, userId) : null;
    const role = grants?.role ?? null;
    if (!canSee(community.visibility, role)) return null;
    const center = await this.repo.publicCenter(communityId);
    const isPublic = community.visibility !== 'private';
    const out: ReadableSpace[] = [];
    if (isPublic || role !== null) out.push({ id: center.id, kind: 'public_center', public: isPublic });
    if (role === null) return out;
    const circles = await this.repo.circles(communityId);
    const manages = effectivePermissions(grants!).has('manage_circles');
    const mine = manages ? null : await this.repo.circleIdsOf(communityId, userId!);
    for (const c of circles) if (!mine || mine.has(c.id)) out.push({ id: c.id, kind: 'circle', public: false });
    return out;
  }

  /** The subset of otherUserIds who share a community with userId (both members, neither banned there): who may DM whom. */
  async sharesCommunity(userId: string, otherUserIds: string[]): Promise<string[]> {
    if (!UUID.test(userId)) return [];
    const others = [...new Set(otherUserIds.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))].filter((id) => id !== userId.toLowerCase());
    return this.repo.sharingACommunity(userId, others);
  }

  /**
   * Which of userIds are members who may read the space: `spaceAccess(...).readable && member` for each, in a few
   * queries however many are asked (chat's @here asks with everyone present).
   */
  async readersAmong(communityId: string, spaceId: string, userIds: string[]): Promise<string[]> {
    if (!UUID.test(communityId) || !UUID.test(spaceId)) return [];
    const ids = [...new Set(userIds.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))];
    if (!ids.length) return [];
    const space = await this.repo.space(spaceId);
    if (!space || space.community_id !== communityId) return [];
    const members = await this.repo.membersAmong(communityId, spaceId, ids);
    if (space.kind === 'public_center') return members.map((m) => m.user_id);
    // In a circle: its members, and whoever manages circles (as in spaceAccess).
    return members
      .filter(
        (m) =>
          m.in_circle ||
          effectivePermissions({ role: m.role, timedOutUntil: m.timed_out_until, customRoleIds: m.custom_role_ids, customPermissions: m.custom_permissions as Grants['customPermissions'] }).has(
            'manage_circles',
          ),
      )
      .map((m) => m.user_id);
  }

  /** Basics for services acting for a community's owner (payments): owner, address and every circle's access. */
  async describe(communityId: string): Promise<CommunityInfo | null> {
    if (!UUID.test(communityId)) return null;
    const community = await this.repo.byId(communityId);
    if (!community) return null;
    const circles = await this.repo.circles(communityId);
    return {
      id: community.id,
      slug: community.slug,
      name: community.name,
      ownerId: community.owner_id,
      visibility: community.visibility as CommunityInfo['visibility'],
      archived: community.archived_at !== null,
      circles: circles.map((c) => ({ id: c.id, name: c.name, access: c.access as CommunityInfo['circles'][number]['access'], hidden: c.hidden })),
    };
  }

  /** The permissions the viewer has in a community, or in one of its spaces (for clients to show the right controls). */
  async permissionsOf(communityId: string, spaceId: string | null, identity: Identity): Promise<Permission[]> {
    if (!identity.userId) return [];
    const out: Permission[] = [];
    for (const p of permissions) if (await this.can(identity.userId, p, communityId, spaceId ?? undefined)) out.push(p);
    return out;
  }

  /** After a change to who may do what: other services' cached answers for this member are dropped at once. */
  private async changed(communityId: string, userId?: string): Promise<void> {
    this.deps.outbox.nudge();
    await invalidateCommunityPermissions(this.deps.cache, communityId, userId, this.deps.pubsub);
  }

  /** The actor must outrank the target. */
  private async manageable(communityId: string, actor: Grants, targetId: string) {
    const target = await this.repo.member(communityId, targetId);
    if (!target) throw communityErrors.notMember();
    if (effectiveRank(await this.repo.grants(communityId, targetId)) >= effectiveRank(actor)) throw communityErrors.outranked();
    return target;
  }

  // ---- custom roles and per-space overrides ----------------------------------------------------------------

  /** Nobody hands out a permission they do not hold themselves. */
  private checkGrantable(actor: Grants, wanted: string[]) {
    const unknown = wanted.filter((p) => !(permissions as readonly string[]).includes(p));
    if (unknown.length) throw badInput(`Unknown permission "${unknown[0]}".`, 'permissions');
    const mine = effectivePermissions(actor);
    if (wanted.some((p) => !mine.has(p as Permission))) throw communityErrors.cannotGrant();
  }

  async createRole(communityId: string, rawName: string, perms: string[], identity: Identity) {
    const { userId, grants } = await this.require(communityId, identity, 'manage_roles');
    const { name } = parse(roleNameInput, { name: rawName });
    this.checkGrantable(grants, perms);
    try {
      return await this.repo.transaction(async (trx) => {
        const role = await this.repo.insertRole(trx, { id: newId(), community_id: communityId, name, permissions: [...new Set(perms)] });
        await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'role.create', targetType: 'role', targetId: role.id, before: null, after: { name, permissions: role.permissions }, ip: identity.ip });
        return role;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'roles_name_key')) throw communityErrors.roleNameTaken();
      throw err;
    }
  }

  async updateRole(roleId: string, patch: { name?: string | null; permissions?: string[] | null }, identity: Identity) {
    const role = await this.repo.customRole(roleId);
    if (!role) throw communityErrors.notFound();
    const { userId, grants } = await this.require(role.community_id, identity, 'manage_roles');
    const next: { name?: string; permissions?: string[] } = {};
    if (patch.name) next.name = parse(roleNameInput, { name: patch.name }).name;
    if (patch.permissions) {
      this.checkGrantable(grants, patch.permissions);
      next.permissions = [...new Set(patch.permissions)];
    }
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateRole(trx, roleId, next);
      await this.repo.appendAudit(trx, { communityId: role.community_id, actorId: userId, action: 'role.update', targetType: 'role', targetId: roleId, before: { name: role.name, permissions: role.permissions }, after: next, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.roleChanged, { communityId: role.community_id, customRoleId: roleId });
      return updated;
    });
    await this.changed(role.community_id);
    return updated;
  }

  async deleteRole(roleId: string, identity: Identity): Promise<boolean> {
    const role = await this.repo.customRole(roleId);
    if (!role) return false;
    const { userId } = await this.require(role.community_id, identity, 'manage_roles');
    await this.repo.transaction(async (trx) => {
      await this.repo.deleteRole(trx, roleId);
      await this.repo.appendAudit(trx, { communityId: role.community_id, actorId: userId, action: 'role.delete', targetType: 'role', targetId: roleId, before: { name: role.name, permissions: role.permissions }, after: null, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.roleChanged, { communityId: role.community_id, customRoleId: roleId });
    });
    await this.changed(role.community_id);
    return true;
  }

  async setCustomRole(communityId: string, targetId: string, roleId: string, assign: boolean, identity: Identity): Promise<boolean> {
    const { userId, grants } = await this.require(communityId, identity, 'manage_roles');
    const role = await this.repo.customRole(roleId);
    if (!role || role.community_id !== communityId) throw communityErrors.notFound();
    this.checkGrantable(grants, role.permissions);
    await this.manageable(communityId, grants, targetId);
    const done = await this.repo.transaction(async (trx) => {
      const done = assign ? await this.repo.assignRole(trx, communityId, targetId, roleId) : await this.repo.unassignRole(trx, communityId, targetId, roleId);
      if (!done) return false;
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: assign ? 'member.role.assign' : 'member.role.unassign', targetType: 'user', targetId, before: null, after: { roleId, name: role.name }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.roleChanged, { communityId, userId: targetId, customRoleId: roleId, assigned: assign });
      return true;
    });
    if (done) await this.changed(communityId, targetId);
    return done;
  }

  async setSpaceOverride(spaceId: string, subject: string, allow: string[], deny: string[], identity: Identity) {
    const space = await this.visibleSpace(spaceId, identity);
    const { userId, grants } = await this.require(space.community_id, identity, 'manage_roles');
    const builtIn = ['member', 'moderator'].includes(subject.toLowerCase());
    const custom = builtIn ? null : await this.repo.customRole(subject);
    if (!builtIn && (!custom || custom.community_id !== space.community_id)) throw badInput('Choose "member", "moderator" or one of this community\'s roles.', 'subject');
    this.checkGrantable(grants, [...allow, ...deny]);
    const o = { space_id: spaceId, subject: builtIn ? subject.toLowerCase() : subject, allow: [...new Set(allow)], deny: [...new Set(deny)] };
    await this.repo.transaction(async (trx) => {
      await this.repo.setOverride(trx, o);
      await this.repo.appendAudit(trx, { communityId: space.community_id, actorId: userId, action: 'space.permissions', targetType: 'space', targetId: spaceId, before: null, after: { subject: o.subject, allow: o.allow, deny: o.deny }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.roleChanged, { communityId: space.community_id, spaceId });
    });
    await this.changed(space.community_id);
    return o;
  }

  /** Like the member directory, the roles (and what they grant) are for members only. */
  async roles(communityId: string, identity: Identity) {
    const community = await this.repo.byId(communityId);
    const role = community ? await this.roleOf(communityId, identity.userId) : null;
    if (!community || !canSee(community.visibility, role)) throw communityErrors.notFound();
    if (!role) throw communityErrors.notAllowed();
    return this.repo.customRoles(communityId);
  }

  /** A space for a signed-in caller; a hidden circle they may not see is answered like one that does not exist. */
  private async visibleSpace(spaceId: string, identity: Identity) {
    this.requireUser(identity);
    const space = await this.repo.space(spaceId);
    if (!space || (space.kind === 'circle' && !(await this.circle(spaceId, identity)))) throw communityErrors.notFound();
    return space;
  }

  async spaceOverrides(spaceId: string, identity: Identity) {
    const space = await this.visibleSpace(spaceId, identity);
    await this.require(space.community_id, identity, 'manage_roles');
    return this.repo.overrides(spaceId);
  }

  // ---- circles ---------------------------------------------------------------------------------------------

  /** The circles of a community this viewer may see: hidden ones only for their members and circle managers. */
  async circlesFor(communityId: string, identity: Identity) {
    const community = await this.byId(communityId, identity);
    if (!community) return [];
    const mine = identity.userId ? await this.repo.circleIdsOf(communityId, identity.userId) : new Set<string>();
    const manager = identity.userId ? effectivePermissions(await this.repo.grants(communityId, identity.userId)).has('manage_circles') : false;
    return (await this.repo.circles(communityId)).filter((c) => !c.hidden || manager || mine.has(c.id));
  }

  /** A circle if visible to the viewer, else null (a hidden circle's existence stays secret). */
  async circle(spaceId: string, identity: Identity) {
    const space = await this.repo.space(spaceId);
    if (!space || space.kind !== 'circle') return null;
    return (await this.circlesFor(space.community_id, identity)).find((c) => c.id === spaceId) ?? null;
  }

  private async requireCircleManager(spaceId: string, identity: Identity) {
    const userId = this.requireUser(identity);
    const circle = await this.circle(spaceId, identity);
    if (!circle) throw communityErrors.notFound();
    const host = (await this.repo.circleRoleOf(spaceId, userId)) === 'host';
    const manager = effectivePermissions(await this.repo.grants(circle.community_id, userId)).has('manage_circles');
    if (!host && !manager) throw communityErrors.notAllowed();
    return { circle, userId, manager };
  }

  /**
   * A host who is not a circle manager looks after ordinary members only: other hosts, and people who manage
   * circles community-wide (admins, the owner, custom roles with that permission), are beyond their reach.
   */
  private async requireReachable(circle: { id: string; community_id: string }, actor: { userId: string; manager: boolean }, targetId: string) {
    if (actor.manager || targetId === actor.userId) return;
    const [circleRole, grants] = await Promise.all([this.repo.circleRoleOf(circle.id, targetId), this.repo.grants(circle.community_id, targetId)]);
    if (circleRole === 'host' || effectivePermissions(grants).has('manage_circles')) throw communityErrors.notAllowed();
  }

  async createCircle(communityId: string, raw: unknown, identity: Identity) {
    const { userId, community } = await this.require(communityId, identity, 'manage_circles');
    if (community.archived_at) throw communityErrors.archived();
    const input = parse(createCircleInput, raw);
    const circle = await this.repo.transaction(async (trx) => {
      const circle = await this.repo.insertCircle(trx, { id: newId(), community_id: communityId, name: input.name, description: input.description, access: input.access, hidden: input.hidden, created_by: userId });
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'circle.create', targetType: 'circle', targetId: circle.id, before: null, after: input, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleCreated, { communityId, circleId: circle.id, hidden: circle.hidden, access: circle.access });
      return circle;
    });
    this.deps.outbox.nudge();
    return circle;
  }

  async updateCircle(spaceId: string, raw: unknown, identity: Identity) {
    const { circle, userId } = await this.requireCircleManager(spaceId, identity);
    const community = await this.repo.byId(circle.community_id);
    if (community?.archived_at) throw communityErrors.archived();
    const input = parse(updateCircleInput, raw);
    const before = Object.fromEntries(Object.keys(input).map((k) => [k, circle[k as keyof typeof circle]]));
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateCircle(trx, spaceId, input);
      await this.repo.appendAudit(trx, { communityId: circle.community_id, actorId: userId, action: 'circle.update', targetType: 'circle', targetId: spaceId, before, after: input, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleUpdated, { communityId: circle.community_id, circleId: spaceId, hidden: updated.hidden, access: updated.access, changed: Object.keys(input) });
      return updated;
    });
    // Access and visibility rules changed for everyone in the community.
    await this.changed(circle.community_id);
    return updated;
  }

  async deleteCircle(spaceId: string, confirmName: string, identity: Identity): Promise<boolean> {
    const userId = this.requireUser(identity);
    const circle = await this.circle(spaceId, identity);
    if (!circle) throw communityErrors.notFound();
    await this.require(circle.community_id, identity, 'manage_circles');
    if (confirmName.trim() !== circle.name) throw communityErrors.confirmName();
    await this.repo.transaction(async (trx) => {
      await this.repo.deleteCircle(trx, spaceId);
      await this.repo.appendAudit(trx, { communityId: circle.community_id, actorId: userId, action: 'circle.delete', targetType: 'circle', targetId: spaceId, before: { name: circle.name, access: circle.access, hidden: circle.hidden }, after: null, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleDeleted, { communityId: circle.community_id, circleId: spaceId });
    });
    await this.changed(circle.community_id);
    return true;
  }

  /** The viewer's own pending request to join, so the page can say "waiting for review". */
  async viewerJoinRequest(communityId: string, identity: Identity) {
    if (!identity.userId) return null;
    return (await this.repo.pendingRequestOf(communityId, identity.userId)) ?? null;
  }

  async joinCircle(spaceId: string, identity: Identity) {
    const userId = this.requireUser(identity);
    const circle = await this.circle(spaceId, identity);
    if (!circle) throw communityErrors.notFound();
    if (!(await this.repo.role(circle.community_id, userId))) throw communityErrors.notAllowed();
    if (await this.repo.circleRoleOf(spaceId, userId)) return circle; // already in: nothing to do, as with joinCommunity
    if (circle.access === 'paid') throw communityErrors.paidCircle();
    if (circle.access !== 'open') throw communityErrors.circleClosed();
    await this.addToCircle(circle.community_id, spaceId, userId, 'member', null, identity);
    return circle;
  }

  async leaveCircle(spaceId: string, identity: Identity): Promise<boolean> {
    const userId = this.requireUser(identity);
    const space = await this.repo.space(spaceId);
    if (!space || space.kind !== 'circle') return false;
    if (await this.repo.hasGrant(spaceId, userId)) throw communityErrors.paidAccessLeave();
    const left = await this.repo.transaction(async (trx) => {
      if (!(await this.repo.removeCircleMember(trx, spaceId, userId))) return false;
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleMemberRemoved, { communityId: space.community_id, circleId: spaceId, userId });
      return true;
    });
    if (left) await this.changed(space.community_id, userId);
    return left;
  }

  async addCircleMember(spaceId: string, targetId: string, rawRole: string, identity: Identity) {
    const actor = await this.requireCircleManager(spaceId, identity);
    const { circle, userId } = actor;
    if (!(await this.repo.role(circle.community_id, targetId))) throw communityErrors.notMember();
    await this.requireReachable(circle, actor, targetId);
    return this.addToCircle(circle.community_id, spaceId, targetId, rawRole.toLowerCase() === 'host' ? 'host' : 'member', userId, identity);
  }

  private async addToCircle(communityId: string, spaceId: string, targetId: string, role: 'host' | 'member', actorId: string | null, identity: Identity) {
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.addCircleMember(trx, spaceId, targetId, role);
      if (actorId) {
        await this.repo.appendAudit(trx, { communityId, actorId, action: 'circle.member.add', targetType: 'user', targetId, before: null, after: { circleId: spaceId, role }, ip: identity.ip });
      }
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleMemberAdded, { communityId, circleId: spaceId, userId: targetId, role });
      return row;
    });
    await this.changed(communityId, targetId);
    return row;
  }

  async removeCircleMember(spaceId: string, targetId: string, identity: Identity): Promise<boolean> {
    const actor = await this.requireCircleManager(spaceId, identity);
    const { circle, userId } = actor;
    await this.requireReachable(circle, actor, targetId);
    if (await this.repo.hasGrant(spaceId, targetId)) throw communityErrors.paidAccessRemove();
    const removed = await this.repo.transaction(async (trx) => {
      if (!(await this.repo.removeCircleMember(trx, spaceId, targetId))) return false;
      await this.repo.appendAudit(trx, { communityId: circle.community_id, actorId: userId, action: 'circle.member.remove', targetType: 'user', targetId, before: { circleId: spaceId }, after: null, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleMemberRemoved, { communityId: circle.community_id, circleId: spaceId, userId: targetId });
      return true;
    });
    if (removed) await this.changed(circle.community_id, targetId);
    return removed;
  }

  async circleMembers(spaceId: string, identity: Identity) {
    const circle = await this.circle(spaceId, identity);
    if (!circle) throw communityErrors.notFound();
    if (!identity.userId || !(await this.repo.role(circle.community_id, identity.userId))) throw communityErrors.notAllowed();
    const [rows, paid] = await Promise.all([this.repo.circleMembers(spaceId), this.repo.grantedUsers(spaceId)]);
    return rows.map((r) => ({ ...r, paid: paid.has(r.user_id) }));
  }

  async create(raw: unknown, identity: Identity): Promise<CommunityRow> {
    const userId = this.requireUser(identity);
    const input = parse(createCommunityInput, raw);
    if (reservedSlugs.has(input.slug)) throw communityErrors.slugReserved();
    const id = newId();
    try {
      const row = await this.repo.transaction(async (trx) => {
        const { joinPolicy, joinQuestions, ...rest } = input;
        const row = await this.repo.insertCommunity(trx, { id, owner_id: userId, ...rest, join_policy: joinPolicy, join_questions: joinQuestions }, newId());
        await this.repo.appendAudit(trx, { communityId: id, actorId: userId, action: 'community.create', targetType: 'community', targetId: id, before: null, after: input, ip: identity.ip });
        await this.deps.outbox.write(trx as Kysely<any>, communityTopics.created, { communityId: id, slug: row.slug, ownerId: userId, visibility: row.visibility });
        return row;
      });
      this.deps.outbox.nudge();
      return row;
    } catch (err) {
      if (isUniqueViolation(err, 'communities_slug_key')) throw communityErrors.slugTaken();
      throw err;
    }
  }

  async update(communityId: string, raw: unknown, identity: Identity): Promise<CommunityRow> {
    const { community, userId } = await this.require(communityId, identity, 'manage_community');
    if (community.archived_at) throw communityErrors.archived();
    const input = parse(updateCommunityInput, raw);
    const { joinPolicy, joinQuestions, ...rest } = input;
    const patch = { ...rest, ...(joinPolicy ? { join_policy: joinPolicy } : {}), ...(joinQuestions ? { join_questions: joinQuestions } : {}) };
    const before = Object.fromEntries(Object.keys(patch).map((k) => [k, community[k as keyof typeof patch]]));
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.updateCommunity(trx, communityId, patch);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'community.update', targetType: 'community', targetId: communityId, before, after: patch, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.updated, { communityId, changes: Object.keys(patch) });
      return row;
    });
    // Visibility decides who may read its spaces, anonymous visitors included.
    await this.changed(communityId);
    return row;
  }

  /** Sets or removes the avatar or banner; the media service checks the upload is the actor's and meant for this. */
  async setCommunityImage(communityId: string, kind: 'avatar' | 'banner', uploadId: string | null, identity: Identity): Promise<CommunityRow> {
    const { community, userId } = await this.require(communityId, identity, 'manage_community');
    if (community.archived_at) throw communityErrors.archived();
    const previous = kind === 'avatar' ? { id: community.avatar_image_id, url: community.avatar_url } : { id: community.banner_image_id, url: community.banner_url };
    const image = uploadId
      ? await this.deps.apis.media.claimImage({ uploadId, userId, purpose: kind === 'avatar' ? 'community_avatar' : 'community_banner', usedBy: `community:${communityId}:${kind}` })
      : null;
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.setCommunityImage(trx, communityId, kind, image);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: `community.${kind}`, targetType: 'community', targetId: communityId, before: { url: previous.url }, after: { url: image?.url ?? null }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.updated, { communityId, changes: [kind] });
      return row;
    });
    this.deps.outbox.nudge();
    if (previous.id && previous.id !== image?.id) await this.releaseImage(previous.id);
    return row;
  }

  async setCircleImage(spaceId: string, uploadId: string | null, identity: Identity) {
    const { circle, userId } = await this.requireCircleManager(spaceId, identity);
    const community = await this.repo.byId(circle.community_id);
    if (community?.archived_at) throw communityErrors.archived();
    const image = uploadId ? await this.deps.apis.media.claimImage({ uploadId, userId, purpose: 'circle_image', usedBy: `community:${circle.community_id}:circle:${spaceId}` }) : null;
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.setCircleImage(trx, spaceId, image);
      await this.repo.appendAudit(trx, { communityId: circle.community_id, actorId: userId, action: 'circle.image', targetType: 'circle', targetId: spaceId, before: { url: circle.image_url }, after: { url: image?.url ?? null }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleUpdated, { communityId: circle.community_id, circleId: spaceId, hidden: row.hidden, access: row.access, changed: ['image'] });
      return row;
    });
    this.deps.outbox.nudge();
    if (circle.image_id && circle.image_id !== image?.id) await this.releaseImage(circle.image_id);
    return row;
  }

  /** A replaced image is deleted; if that fails the change stands and the old bytes linger (logged). */
  private async releaseImage(imageId: string) {
    try {
      await this.deps.apis.media.releaseImage({ imageId });
    } catch (err) {
      this.deps.log.warn('could not release a replaced image', { imageId, err });
    }
  }

  async join(communityId: string, identity: Identity): Promise<CommunityRow> {
    const userId = this.requireUser(identity);
    const community = await this.repo.byId(communityId);
    if (!community) throw communityErrors.notFound();
    if (community.archived_at) throw communityErrors.archived();
    if (community.visibility === 'private' && !(await this.repo.role(communityId, userId))) throw communityErrors.privateCommunity();
    const ban = await this.repo.activeBan(communityId, userId);
    if (ban) throw communityErrors.banned(ban.expires_at);
    if (!(await this.repo.role(communityId, userId))) {
      if (community.join_policy === 'approval') throw communityErrors.needsRequest();
      if (community.join_policy === 'invite') throw communityErrors.needsInvite();
    }
    const joined = await this.repo.transaction(async (trx) => {
      const added = await this.repo.addMember(trx, communityId, userId, 'member');
      if (added) await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberJoined, { communityId, userId, role: 'member' });
      return added;
    });
    if (joined) await this.changed(communityId, userId);
    return community;
  }

  async leave(communityId: string, identity: Identity): Promise<boolean> {
    const userId = this.requireUser(identity);
    const role = await this.repo.role(communityId, userId);
    if (!role) return false;
    if (role === 'owner') throw communityErrors.ownerCannotLeave();
    await this.repo.transaction(async (trx) => {
      if (await this.repo.removeMember(trx, communityId, userId)) {
        await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberLeft, { communityId, userId });
      }
    });
    await this.changed(communityId, userId);
    return true;
  }

  /** The member directory is for members: a public community shows its member count, not who they are. */
  async members(communityId: string, search: string | null, limit: number, identity: Identity) {
    const community = await this.repo.byId(communityId);
    const role = community ? await this.roleOf(communityId, identity.userId) : null;
    if (!community || !canSee(community.visibility, role)) throw communityErrors.notFound();
    if (!role) throw communityErrors.notAllowed();
    const q = search?.trim().slice(0, 64) || null;
    return this.repo.members(communityId, q, Math.min(Math.max(limit, 1), 200));
  }

  async auditLog(communityId: string, identity: Identity, opts: { action?: string; limit: number }) {
    await this.require(communityId, identity, 'view_audit_log');
    return this.repo.auditRecords(communityId, { action: opts.action, limit: Math.min(Math.max(opts.limit, 1), 500), order: 'desc' });
  }

  async verifyAudit(communityId: string, identity?: Identity) {
    if (identity) await this.require(communityId, identity, 'view_audit_log');
    const [records, head] = await Promise.all([this.repo.auditRecords(communityId, { order: 'asc' }), this.repo.auditHead(communityId)]);
    return verifyChain(records, head);
  }

  async setRole(communityId: string, targetId: string, rawRole: string, identity: Identity) {
    const { userId, grants } = await this.require(communityId, identity, 'manage_roles');
    const role = rawRole.toLowerCase() as Role;
    if (role === 'owner') throw communityErrors.useTransfer();
    if (!(role in rank) || rank[role] >= effectiveRank(grants)) throw communityErrors.outranked();
    const target = await this.manageable(communityId, grants, targetId);
    const updated = await this.repo.transaction(async (trx) => {
      const row = await this.repo.setRole(trx, communityId, targetId, role);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'member.role', targetType: 'user', targetId, before: { role: target.role }, after: { role }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.roleChanged, { communityId, userId: targetId, from: target.role, to: role });
      return row;
    });
    await this.changed(communityId, targetId);
    return updated;
  }

  async remove(communityId: string, targetId: string, rawReason: string, identity: Identity): Promise<boolean> {
    const { reason } = parse(reasonInput, { reason: rawReason });
    const { userId, grants } = await this.require(communityId, identity, 'manage_members');
    const target = await this.manageable(communityId, grants, targetId);
    await this.repo.transaction(async (trx) => {
      await this.repo.removeMember(trx, communityId, targetId);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'member.remove', targetType: 'user', targetId, before: { role: target.role }, after: { reason }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberRemoved, { communityId, userId: targetId });
    });
    await this.changed(communityId, targetId);
    return true;
  }

  async ban(communityId: string, targetId: string, rawReason: string, durationSeconds: number | null, identity: Identity) {
    const { reason } = parse(reasonInput, { reason: rawReason });
    const { userId, grants } = await this.require(communityId, identity, 'manage_members');
    if (durationSeconds !== null && (!Number.isInteger(durationSeconds) || durationSeconds < 60 || durationSeconds > MAX_BAN_S)) throw communityErrors.badDuration('durationSeconds');
    // Non-members can be banned pre-emptively; members only by someone who outranks them.
    const target = await this.repo.member(communityId, targetId);
    if (target && effectiveRank(await this.repo.grants(communityId, targetId)) >= effectiveRank(grants)) throw communityErrors.outranked();
    if (targetId === userId) throw communityErrors.outranked();
    const expiresAt = durationSeconds === null ? null : new Date(Date.now() + durationSeconds * 1000);
    const ban = await this.repo.transaction(async (trx) => {
      if (target) await this.repo.removeMember(trx, communityId, targetId);
      const ban = await this.repo.upsertBan(trx, { community_id: communityId, user_id: targetId, reason, expires_at: expiresAt, banned_by: userId });
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'member.ban', targetType: 'user', targetId, before: target ? { role: target.role } : null, after: { reason: ban.reason, expiresAt: expiresAt?.toISOString() ?? null }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberBanned, { communityId, userId: targetId, expiresAt: expiresAt?.toISOString() ?? null });
      return ban;
    });
    await this.changed(communityId, targetId);
    return ban;
  }

  async unban(communityId: string, targetId: string, identity: Identity): Promise<boolean> {
    const { userId } = await this.require(communityId, identity, 'manage_members');
    const lifted = await this.repo.transaction(async (trx) => {
      if (!(await this.repo.deleteBan(trx, communityId, targetId))) return false;
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'member.unban', targetType: 'user', targetId, before: null, after: null, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberUnbanned, { communityId, userId: targetId });
      return true;
    });
    if (lifted) await this.changed(communityId, targetId);
    return lifted;
  }

  async timeout(communityId: string, targetId: string, durationSeconds: number, rawReason: string, identity: Identity) {
    const { reason } = parse(reasonInput, { reason: rawReason });
    const { userId, grants } = await this.require(communityId, identity, 'moderate_content');
    if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > MAX_TIMEOUT_S) throw communityErrors.badDuration('durationSeconds');
    await this.manageable(communityId, grants, targetId);
    const until = new Date(Date.now() + durationSeconds * 1000);
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.setTimeout(trx, communityId, targetId, until, reason);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'member.timeout', targetType: 'user', targetId, before: null, after: { until: until.toISOString(), reason: row.timeout_reason }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberTimedOut, { communityId, userId: targetId, until: until.toISOString() });
      return row;
    });
    await this.changed(communityId, targetId);
    return row;
  }

  /** Lifts a timeout before it ends. */
  async clearTimeout(communityId: string, targetId: string, identity: Identity) {
    const { userId, grants } = await this.require(communityId, identity, 'moderate_content');
    const target = await this.manageable(communityId, grants, targetId);
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.setTimeout(trx, communityId, targetId, null, null);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'member.timeout.clear', targetType: 'user', targetId, before: { until: target.timed_out_until?.toISOString() ?? null }, after: null, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberTimedOut, { communityId, userId: targetId, until: null });
      return row;
    });
    await this.changed(communityId, targetId);
    return row;
  }

  /** The viewer's own active ban here, so the community's page can say why they cannot join. */
  async viewerBan(communityId: string, identity: Identity) {
    if (!identity.userId) return null;
    return (await this.repo.activeBan(communityId, identity.userId)) ?? null;
  }

  async transferOwnership(communityId: string, newOwnerId: string, confirmSlug: string, identity: Identity) {
    const { community, userId, role } = await this.require(communityId, identity, 'manage_community');
    if (role !== 'owner') throw communityErrors.ownerOnly();
    if (confirmSlug.trim().toLowerCase() !== community.slug.toLowerCase()) throw communityErrors.confirmSlug();
    if (newOwnerId === userId) throw communityErrors.alreadyOwner();
    const target = await this.repo.member(communityId, newOwnerId);
    if (!target) throw communityErrors.notMember();
    const row = await this.repo.transaction(async (trx) => {
      await this.repo.setRole(trx, communityId, newOwnerId, 'owner');
      await this.repo.setRole(trx, communityId, userId, 'admin');
      await this.repo.setOwner(trx, communityId, newOwnerId);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'community.transfer', targetType: 'user', targetId: newOwnerId, before: { ownerId: userId }, after: { ownerId: newOwnerId }, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.ownershipTransferred, { communityId, from: userId, to: newOwnerId });
      return (await this.repo.byId(communityId, trx))!;
    });
    await this.changed(communityId);
    return row;
  }

  private async requireOwner(communityId: string, identity: Identity, confirmSlug?: string) {
    const ctx = await this.require(communityId, identity, 'manage_community');
    if (ctx.role !== 'owner') throw communityErrors.ownerOnly();
    if (confirmSlug !== undefined && confirmSlug.trim().toLowerCase() !== ctx.community.slug.toLowerCase()) throw communityErrors.confirmSlug();
    return ctx;
  }

  async setArchived(communityId: string, archived: boolean, confirmSlug: string | undefined, identity: Identity) {
    const { community, userId } = await this.requireOwner(communityId, identity, archived ? confirmSlug : undefined);
    if ((community.archived_at !== null) === archived) return community;
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.setArchived(trx, communityId, archived);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: archived ? 'community.archive' : 'community.unarchive', targetType: 'community', targetId: communityId, before: null, after: null, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, archived ? communityTopics.archived : communityTopics.unarchived, { communityId });
      return row;
    });
    await this.changed(communityId);
    return row;
  }

  async delete(communityId: string, confirmSlug: string, identity: Identity): Promise<boolean> {
    const { community, userId } = await this.requireOwner(communityId, identity, confirmSlug);
    await this.repo.transaction(async (trx) => {
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'community.delete', targetType: 'community', targetId: communityId, before: { slug: community.slug, name: community.name }, after: null, ip: identity.ip });
      await this.repo.deleteCommunity(trx, communityId);
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.deleted, { communityId, slug: community.slug });
    });
    await this.changed(communityId);
    this.deps.log.info('community deleted', { communityId, by: userId });
    return true;
  }

  async bans(communityId: string, identity: Identity) {
    await this.require(communityId, identity, 'manage_members');
    return this.repo.activeBans(communityId);
  }

  // ---- invites and requests to join -------------------------------------------------------------------

  async createInvite(communityId: string, expiresInSeconds: number | null, maxUses: number | null, identity: Identity) {
    const { userId, community } = await this.require(communityId, identity, 'invite');
    if (community.archived_at) throw communityErrors.archived();
    if (expiresInSeconds !== null && (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > 365 * 86_400)) throw communityErrors.badDuration('expiresInSeconds');
    if (maxUses !== null && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 100_000)) throw badInput('Uses must be between 1 and 100000.', 'maxUses');
    const invite = await this.repo.insertInvite({
      id: newId(),
      community_id: communityId,
      code: newSecretToken().slice(0, 16), // 96 bits: unguessable, short enough to share
      created_by: userId,
      expires_at: expiresInSeconds === null ? null : new Date(Date.now() + expiresInSeconds * 1000),
      max_uses: maxUses,
    });
    await this.repo.transaction((trx) =>
      this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'invite.create', targetType: 'invite', targetId: invite.id, before: null, after: { expiresAt: invite.expires_at?.toISOString() ?? null, maxUses }, ip: identity.ip }),
    );
    return invite;
  }

  async revokeInvite(inviteId: string, identity: Identity): Promise<boolean> {
    const userId = this.requireUser(identity);
    const invite = await this.repo.invite(inviteId);
    if (!invite) throw communityErrors.inviteInvalid();
    // Its creator may revoke it; so may anyone who manages members.
    if (invite.created_by !== userId) await this.require(invite.community_id, identity, 'manage_members');
    return this.repo.transaction(async (trx) => {
      if (!(await this.repo.revokeInvite(trx, inviteId))) return false;
      await this.repo.appendAudit(trx, { communityId: invite.community_id, actorId: userId, action: 'invite.revoke', targetType: 'invite', targetId: inviteId, before: null, after: null, ip: identity.ip });
      return true;
    });
  }

  /** Everyone who may invite sees their own links; people who manage members see (and may revoke) all of them. */
  async invites(communityId: string, identity: Identity) {
    const { userId, grants } = await this.require(communityId, identity, 'invite');
    return this.repo.invites(communityId, effectivePermissions(grants).has('manage_members') ? undefined : userId);
  }

  async invitePreview(code: string) {
    const invite = code.length <= 64 ? await this.repo.inviteByCode(code) : undefined;
    if (!invite) return null;
    const community = (await this.repo.byId(invite.community_id))!;
    const valid = !invite.revoked_at && (!invite.expires_at || invite.expires_at > new Date()) && (invite.max_uses === null || invite.uses < invite.max_uses) && !community.archived_at;
    return { community, valid };
  }

  async joinByInvite(code: string, identity: Identity) {
    const userId = this.requireUser(identity);
    const preview = await this.invitePreview(code);
    if (!preview) throw communityErrors.inviteInvalid();
    const communityId = preview.community.id;
    if (await this.repo.role(communityId, userId)) return preview.community;
    const ban = await this.repo.activeBan(communityId, userId);
    if (ban) throw communityErrors.banned(ban.expires_at);
    if (preview.community.archived_at) throw communityErrors.archived();
    await this.repo.transaction(async (trx) => {
      if (!(await this.repo.spendInvite(trx, code))) throw communityErrors.inviteInvalid();
      await this.repo.addMember(trx, communityId, userId, 'member');
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberJoined, { communityId, userId, role: 'member', via: 'invite' });
    });
    await this.changed(communityId, userId);
    return preview.community;
  }

  async requestToJoin(communityId: string, rawAnswers: unknown, identity: Identity) {
    const userId = this.requireUser(identity);
    const community = await this.visible(await this.repo.byId(communityId), identity);
    if (!community) throw communityErrors.notFound();
    if (await this.repo.role(communityId, userId)) throw communityErrors.alreadyMember();
    const ban = await this.repo.activeBan(communityId, userId);
    if (ban) throw communityErrors.banned(ban.expires_at);
    if (community.archived_at) throw communityErrors.archived();
    if (community.join_policy === 'invite') throw communityErrors.needsInvite();
    const given = parse(answers, rawAnswers);
    const questions = community.join_questions as string[];
    if (given.length < questions.length || given.slice(0, questions.length).some((a) => !a)) throw communityErrors.answersMissing(questions.length);
    try {
      return await this.repo.transaction((trx) => this.repo.insertJoinRequest(trx, { id: newId(), community_id: communityId, user_id: userId, answers: given.slice(0, questions.length), questions }));
    } catch (err) {
      if (isUniqueViolation(err, 'join_requests_one_pending')) throw communityErrors.requestPending();
      throw err;
    }
  }

  async joinRequests(communityId: string, status: 'pending' | 'approved' | 'rejected', identity: Identity) {
    await this.require(communityId, identity, 'manage_members');
    return this.repo.joinRequests(communityId, status);
  }

  async decideJoinRequest(requestId: string, approve: boolean, identity: Identity) {
    const request = await this.repo.joinRequest(requestId);
    if (!request) throw communityErrors.notFound();
    const { userId } = await this.require(request.community_id, identity, 'manage_members');
    const communityId = request.community_id;
    const decided = await this.repo.transaction(async (trx) => {
      const decided = await this.repo.decideJoinRequest(trx, requestId, approve ? 'approved' : 'rejected', userId);
      if (!decided) throw communityErrors.requestDecided();
      if (approve && (await this.repo.addMember(trx, communityId, request.user_id, 'member'))) {
        await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberJoined, { communityId, userId: request.user_id, role: 'member', via: 'request' });
      }
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: approve ? 'request.approve' : 'request.reject', targetType: 'user', targetId: request.user_id, before: null, after: null, ip: identity.ip });
      return decided;
    });
    await this.changed(communityId, request.user_id);
    return decided;
  }

  /** Keeps the profile projection current from auth's events. */
  /**
   * Content moderation done in other services (a post or comment removed or restored) joins the community's audit
   * chain, so moderators see one trail. Events for a community deleted meanwhile are dropped.
   */
  async auditModeration(trx: CommunityDb, action: string, p: ModerationEvent) {
    const community = await trx.selectFrom('community.communities').select('id').where('id', '=', p.communityId).executeTakeFirst();
    if (!community) return;
    const targetType = action.split('.')[0]!;
    await this.repo.appendAudit(trx, {
      communityId: p.communityId,
      actorId: p.moderatorId,
      action,
      targetType,
      targetId: targetType === 'comment' ? p.commentId! : p.postId,
      before: null,
      after: { spaceId: p.spaceId, authorId: p.authorId, postId: p.postId, ...(p.reason ? { reason: p.reason } : {}) },
      ip: p.ip ?? null,
    });
  }

  /**
   * Access another service grants (payments: a subscription or purchase), as the whole set of circles one source
   * grants now. Versions make it safe in any order: an older state arriving late is ignored. Admin grants
   * (manual memberships) are untouched; a membership goes when neither an admin nor any source grants it.
   */
  async applyEntitlements(trx: CommunityDb, p: EntitlementsChanged): Promise<() => Promise<void>> {
    const nothing = async () => {};
    if (!(await this.repo.acceptGrantVersion(trx, p.source, p.communityId, p.userId, p.version))) return nothing;
    const circles = new Set(
      (await trx.selectFrom('community.spaces').select('id').where('community_id', '=', p.communityId).where('kind', '=', 'circle').execute()).map((r) => r.id),
    );
    const wanted = [...new Set(p.circleIds)].filter((id) => circles.has(id));
    const current = await this.repo.grantedSpaces(trx, p.source);
    const left = await this.repo.dropGrants(trx, p.source, p.userId, current.filter((id) => !wanted.includes(id)));
    const added = wanted.filter((id) => !current.includes(id));
    await this.repo.addGrants(trx, p.source, p.communityId, p.userId, added);
    const joined = added.length ? await this.repo.materializeGrants(trx, p.communityId, p.userId, added) : [];
    for (const circleId of left) await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleMemberRemoved, { communityId: p.communityId, circleId, userId: p.userId, via: 'payment' });
    for (const circleId of joined) await this.deps.outbox.write(trx as Kysely<any>, communityTopics.circleMemberAdded, { communityId: p.communityId, circleId, userId: p.userId, role: 'member', via: 'payment' });
    if (!left.length && !joined.length) return nothing;
    return () => this.changed(p.communityId, p.userId);
  }

  async applyProfile(trx: CommunityDb, payload: { userId: string; handle: string; displayName: string; version?: number }) {
    await this.repo.upsertProfile(trx, { ...payload, version: payload.version ?? 0 });
  }
}
