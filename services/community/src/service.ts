import { type Identity, isUniqueViolation, newId, type ServiceDeps, unauthenticated } from '@circles/platform';
import type { Kysely } from 'kysely';
import { verifyChain } from './audit.ts';
import { communityErrors } from './errors.ts';
import { createCommunityInput, parse, reservedSlugs, updateCommunityInput } from './inputs.ts';
import { canSee, type Permission, type Role, roleAllows } from './policy.ts';
import { type CommunityDb, type CommunityRow, CommunityRepository } from './repo.ts';

export const communityTopics = {
  created: 'community.created',
  updated: 'community.updated',
  memberJoined: 'community.member_joined',
  memberLeft: 'community.member_left',
} as const;

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

  directory(limit: number) {
    return this.repo.listed(Math.min(Math.max(limit, 1), 100));
  }

  mine(identity: Identity) {
    return this.repo.ofUser(this.requireUser(identity));
  }

  private async require(communityId: string, identity: Identity, permission: Permission): Promise<{ community: CommunityRow; userId: string; role: Role }> {
    const userId = this.requireUser(identity);
    const community = await this.repo.byId(communityId);
    const role = community ? await this.repo.role(communityId, userId) : null;
    if (!community || !canSee(community.visibility, role)) throw communityErrors.notFound();
    if (!roleAllows(role, permission)) throw communityErrors.notAllowed();
    return { community, userId, role: role! };
  }

  async create(raw: unknown, identity: Identity): Promise<CommunityRow> {
    const userId = this.requireUser(identity);
    const input = parse(createCommunityInput, raw);
    if (reservedSlugs.has(input.slug)) throw communityErrors.slugReserved();
    const id = newId();
    try {
      const row = await this.repo.transaction(async (trx) => {
        const row = await this.repo.insertCommunity(trx, { id, owner_id: userId, ...input }, newId());
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
    const patch = parse(updateCommunityInput, raw);
    const before = Object.fromEntries(Object.keys(patch).map((k) => [k, community[k as keyof typeof patch]]));
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.updateCommunity(trx, communityId, patch);
      await this.repo.appendAudit(trx, { communityId, actorId: userId, action: 'community.update', targetType: 'community', targetId: communityId, before, after: patch, ip: identity.ip });
      await this.deps.outbox.write(trx as Kysely<any>, communityTopics.updated, { communityId, changes: Object.keys(patch) });
      return row;
    });
    this.deps.outbox.nudge();
    return row;
  }

  async join(communityId: string, identity: Identity): Promise<CommunityRow> {
    const userId = this.requireUser(identity);
    const community = await this.repo.byId(communityId);
    if (!community) throw communityErrors.notFound();
    if (community.archived_at) throw communityErrors.archived();
    if (community.visibility === 'private' && !(await this.repo.role(communityId, userId))) throw communityErrors.privateCommunity();
    const joined = await this.repo.transaction(async (trx) => {
      const added = await this.repo.addMember(trx, communityId, userId, 'member');
      if (added) await this.deps.outbox.write(trx as Kysely<any>, communityTopics.memberJoined, { communityId, userId, role: 'member' });
      return added;
    });
    if (joined) this.deps.outbox.nudge();
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
    this.deps.outbox.nudge();
    return true;
  }

  /** Listed communities show their members to anyone; otherwise members only. */
  async members(communityId: string, search: string | null, limit: number, identity: Identity) {
    const community = await this.repo.byId(communityId);
    const role = community ? await this.roleOf(communityId, identity.userId) : null;
    if (!community || !canSee(community.visibility, role)) throw communityErrors.notFound();
    if (community.visibility !== 'listed' && !role) throw communityErrors.notAllowed();
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

  /** Keeps the profile projection current from auth's events. */
  async applyProfile(trx: CommunityDb, payload: { userId: string; handle: string; displayName: string }) {
    await this.repo.upsertProfile(trx, payload);
  }
}
