import type { RequestContext, Resolvers } from '@circles/platform';
import type { CommunityRow } from './repo.ts';
import type { CommunityService } from './service.ts';

const upper = <T extends string>(v: T) => v.toUpperCase();

function toCommunity(c: CommunityRow) {
  return {
    id: c.id,
    slug: c.slug,
    name: c.name,
    description: c.description,
    category: c.category,
    language: c.language,
    visibility: upper(c.visibility),
    joinPolicy: upper(c.join_policy),
    joinQuestions: c.join_questions,
    owner: { id: c.owner_id },
    archived: c.archived_at !== null,
    avatarUrl: c.avatar_url,
    bannerUrl: c.banner_url,
    createdAt: c.created_at,
  };
}

const toMember = (m: { community_id: string; user_id: string; role: string; joined_at: Date; timed_out_until: Date | null }) => ({
  communityId: m.community_id,
  user: { id: m.user_id },
  role: upper(m.role),
  joinedAt: m.joined_at,
  timedOutUntil: m.timed_out_until && m.timed_out_until > new Date() ? m.timed_out_until : null,
});
const toBan = (b: { user_id: string; reason: string; expires_at: Date | null; banned_by: string; created_at: Date }) => ({
  user: { id: b.user_id },
  reason: b.reason,
  expiresAt: b.expires_at,
  bannedBy: { id: b.banned_by },
  createdAt: b.created_at,
});

const toInvite = (i: { id: string; code: string; expires_at: Date | null; max_uses: number | null; uses: number; revoked_at: Date | null; created_by: string; created_at: Date }) => ({
  id: i.id,
  code: i.code,
  expiresAt: i.expires_at,
  maxUses: i.max_uses,
  uses: i.uses,
  revoked: i.revoked_at !== null,
  createdBy: { id: i.created_by },
  createdAt: i.created_at,
});
const toRequest = (r: { id: string; user_id: string; answers: unknown; questions: unknown; status: string; created_at: Date; decided_at: Date | null }) => ({
  id: r.id,
  user: { id: r.user_id },
  questions: r.questions as string[],
  answers: r.answers as string[],
  status: upper(r.status),
  createdAt: r.created_at,
  decidedAt: r.decided_at,
});

const toSpace = (s: { id: string; kind: string; name: string; description: string; access: string; hidden: boolean; community_id: string; image_url: string | null }) => ({
  id: s.id,
  imageUrl: s.kind === 'circle' ? s.image_url : null,
  kind: upper(s.kind),
  name: s.name,
  description: s.description,
  access: upper(s.access),
  hidden: s.hidden,
  communityId: s.community_id,
});
const toCircleMember = (m: { user_id: string; role: string; added_at: Date; manual?: boolean; paid?: boolean }) => ({
  user: { id: m.user_id },
  role: upper(m.role),
  addedAt: m.added_at,
  addedByAdmin: m.manual ?? true,
  paid: m.paid ?? false,
});

export function createCommunityResolvers(svc: CommunityService): Resolvers {
  const community = async (c: CommunityRow | null) => (c ? toCommunity(c) : null);
  return {
    Community: {
      __resolveReference: async (ref: { id: string }, ctx: RequestContext) => community(await svc.byId(ref.id, ctx.identity)),
      memberCount: (c: { id: string }) => svc.repo.memberCount(c.id),
      viewerRole: async (c: { id: string }, _: unknown, ctx: RequestContext) => {
        const role = await svc.roleOf(c.id, ctx.identity.userId);
        return role ? upper(role) : null;
      },
      publicCenter: async (c: { id: string }) => toSpace(await svc.repo.publicCenter(c.id)),
      circles: async (c: { id: string }, _: unknown, ctx: RequestContext) => (await svc.circlesFor(c.id, ctx.identity)).map(toSpace),
      viewerBan: async (c: { id: string }, _: unknown, ctx: RequestContext) => {
        const b = await svc.viewerBan(c.id, ctx.identity);
        return b ? { reason: b.reason, expiresAt: b.expires_at } : null;
      },
      viewerJoinRequest: async (c: { id: string }, _: unknown, ctx: RequestContext) => {
        const r = await svc.viewerJoinRequest(c.id, ctx.identity);
        return r ? toRequest(r) : null;
      },
    },
    Member: {
      // A directory page loads its members' custom roles in one query (below); a single member asks for its own.
      customRoles: async (m: { communityId: string; user: { id: string }; customRoles?: unknown[] }) =>
        m.customRoles ?? (await svc.repo.customRolesOf(m.communityId, [m.user.id])).get(m.user.id) ?? [],
    },
    Space: {
      __resolveReference: async (ref: { id: string }, ctx: RequestContext) => {
        const s = await svc.repo.space(ref.id);
        if (!s || !(await svc.byId(s.community_id, ctx.identity))) return null;
        if (s.kind === 'circle') return (await svc.circle(s.id, ctx.identity)) ? toSpace(s) : null;
        return toSpace(s);
      },
      viewerIsMember: async (s: { id: string; kind: string; communityId: string }, _: unknown, ctx: RequestContext) => {
        if (!ctx.identity.userId) return false;
        if (s.kind === 'PUBLIC_CENTER') return (await svc.roleOf(s.communityId, ctx.identity.userId)) !== null;
        return (await svc.repo.circleRoleOf(s.id, ctx.identity.userId)) !== null;
      },
      memberCount: (s: { id: string; kind: string; communityId: string }) => (s.kind === 'PUBLIC_CENTER' ? svc.repo.memberCount(s.communityId) : svc.repo.circleMemberCount(s.id)),
      community: async (s: { communityId: string }, _: unknown, ctx: RequestContext) => community(await svc.byId(s.communityId, ctx.identity)),
    },
    Query: {
      community: async (_: unknown, args: { slug: string }, ctx: RequestContext) => community(await svc.bySlug(args.slug, ctx.identity)),
      communities: async (_: unknown, args: { first: number; after?: string | null }) => (await svc.directory(args.first, args.after)).map(toCommunity),
      myCommunities: async (_: unknown, __: unknown, ctx: RequestContext) => (await svc.mine(ctx.identity)).map(toCommunity),
      communityMembers: async (_: unknown, args: { communityId: string; search?: string | null; first: number }, ctx: RequestContext) => {
        const rows = await svc.members(args.communityId, args.search ?? null, args.first, ctx.identity);
        const roles = await svc.repo.customRolesOf(args.communityId, rows.map((r) => r.user_id));
        return rows.map((r) => ({ ...toMember(r), customRoles: roles.get(r.user_id) ?? [] }));
      },
      communityRoles: async (_: unknown, a: { communityId: string }, ctx: RequestContext) =>
        (await svc.roles(a.communityId, ctx.identity)).map((r) => ({ id: r.id, name: r.name, permissions: r.permissions })),
      spaceOverrides: (_: unknown, a: { spaceId: string }, ctx: RequestContext) => svc.spaceOverrides(a.spaceId, ctx.identity),
      myPermissions: (_: unknown, a: { communityId: string; spaceId?: string | null }, ctx: RequestContext) => svc.permissionsOf(a.communityId, a.spaceId ?? null, ctx.identity),
      circle: async (_: unknown, a: { id: string }, ctx: RequestContext) => {
        const c = await svc.circle(a.id, ctx.identity);
        return c ? toSpace(c) : null;
      },
      circleMembers: async (_: unknown, a: { circleId: string }, ctx: RequestContext) => (await svc.circleMembers(a.circleId, ctx.identity)).map(toCircleMember),
      communityInvites: async (_: unknown, a: { communityId: string }, ctx: RequestContext) => (await svc.invites(a.communityId, ctx.identity)).map(toInvite),
      invitePreview: async (_: unknown, a: { code: string }, ctx: RequestContext) => {
        const p = await svc.invitePreview(a.code);
        if (!p) return null;
        const ban = await svc.viewerBan(p.community.id, ctx.identity);
        return {
          communityId: p.community.id,
          name: p.community.name,
          slug: p.community.slug,
          description: p.community.description,
          valid: p.valid,
          viewerBan: ban ? { reason: ban.reason, expiresAt: ban.expires_at } : null,
        };
      },
      joinRequests: async (_: unknown, a: { communityId: string; status: string }, ctx: RequestContext) =>
        (await svc.joinRequests(a.communityId, a.status.toLowerCase() as 'pending', ctx.identity)).map(toRequest),
      communityBans: async (_: unknown, args: { communityId: string }, ctx: RequestContext) => (await svc.bans(args.communityId, ctx.identity)).map(toBan),
      auditLog: async (_: unknown, args: { communityId: string; action?: string | null; first: number }, ctx: RequestContext) =>
        (await svc.auditLog(args.communityId, ctx.identity, { action: args.action ?? undefined, limit: args.first })).map((r) => ({
          id: r.id,
          sequence: r.sequence,
          actor: { id: r.actorId },
          action: r.action,
          targetType: r.targetType,
          targetId: r.targetId,
          targetUser: r.targetType === 'user' ? { id: r.targetId } : null,
          before: r.before === null ? null : JSON.stringify(r.before),
          after: r.after === null ? null : JSON.stringify(r.after),
          ip: r.ip,
          occurredAt: r.occurredAt,
        })),
      verifyAuditChain: async (_: unknown, args: { communityId: string }, ctx: RequestContext) => {
        const v = await svc.verifyAudit(args.communityId, ctx.identity);
        return v.valid
          ? { valid: true, recordsChecked: v.checked, firstInvalidSequence: null, reason: null }
          : { valid: false, recordsChecked: v.checked, firstInvalidSequence: v.firstInvalidSequence, reason: v.reason };
      },
    },
    Mutation: {
      createCommunity: async (_: unknown, args: { input: unknown }, ctx: RequestContext) => toCommunity(await svc.create(args.input, ctx.identity)),
      setCommunityImage: async (_: unknown, a: { communityId: string; kind: 'AVATAR' | 'BANNER'; uploadId?: string | null }, ctx: RequestContext) =>
        toCommunity(await svc.setCommunityImage(a.communityId, a.kind === 'AVATAR' ? 'avatar' : 'banner', a.uploadId ?? null, ctx.identity)),
      setCircleImage: async (_: unknown, a: { circleId: string; uploadId?: string | null }, ctx: RequestContext) => toSpace(await svc.setCircleImage(a.circleId, a.uploadId ?? null, ctx.identity)),
      updateCommunity: async (_: unknown, args: { id: string; input: unknown }, ctx: RequestContext) => toCommunity(await svc.update(args.id, args.input, ctx.identity)),
      joinCommunity: async (_: unknown, args: { id: string }, ctx: RequestContext) => toCommunity(await svc.join(args.id, ctx.identity)),
      leaveCommunity: (_: unknown, args: { id: string }, ctx: RequestContext) => svc.leave(args.id, ctx.identity),
      setMemberRole: async (_: unknown, a: { communityId: string; userId: string; role: string }, ctx: RequestContext) =>
        toMember(await svc.setRole(a.communityId, a.userId, a.role, ctx.identity)),
      removeMember: (_: unknown, a: { communityId: string; userId: string; reason: string }, ctx: RequestContext) => svc.remove(a.communityId, a.userId, a.reason ?? '', ctx.identity),
      banMember: async (_: unknown, a: { communityId: string; userId: string; reason: string; durationSeconds?: number | null }, ctx: RequestContext) =>
        toBan(await svc.ban(a.communityId, a.userId, a.reason ?? '', a.durationSeconds ?? null, ctx.identity)),
      unbanMember: (_: unknown, a: { communityId: string; userId: string }, ctx: RequestContext) => svc.unban(a.communityId, a.userId, ctx.identity),
      timeoutMember: async (_: unknown, a: { communityId: string; userId: string; durationSeconds: number; reason: string }, ctx: RequestContext) =>
        toMember(await svc.timeout(a.communityId, a.userId, a.durationSeconds, a.reason ?? '', ctx.identity)),
      createCircle: async (_: unknown, a: { communityId: string; input: unknown }, ctx: RequestContext) => toSpace(await svc.createCircle(a.communityId, a.input, ctx.identity)),
      updateCircle: async (_: unknown, a: { id: string; input: unknown }, ctx: RequestContext) => toSpace(await svc.updateCircle(a.id, a.input, ctx.identity)),
      deleteCircle: (_: unknown, a: { id: string; confirmName: string }, ctx: RequestContext) => svc.deleteCircle(a.id, a.confirmName, ctx.identity),
      joinCircle: async (_: unknown, a: { id: string }, ctx: RequestContext) => toSpace(await svc.joinCircle(a.id, ctx.identity)),
      leaveCircle: (_: unknown, a: { id: string }, ctx: RequestContext) => svc.leaveCircle(a.id, ctx.identity),
      addCircleMember: async (_: unknown, a: { circleId: string; userId: string; role: string }, ctx: RequestContext) =>
        toCircleMember(await svc.addCircleMember(a.circleId, a.userId, a.role ?? 'MEMBER', ctx.identity)),
      removeCircleMember: (_: unknown, a: { circleId: string; userId: string }, ctx: RequestContext) => svc.removeCircleMember(a.circleId, a.userId, ctx.identity),
      archiveCommunity: async (_: unknown, a: { id: string; confirmSlug: string }, ctx: RequestContext) => toCommunity(await svc.setArchived(a.id, true, a.confirmSlug, ctx.identity)),
      unarchiveCommunity: async (_: unknown, a: { id: string }, ctx: RequestContext) => toCommunity(await svc.setArchived(a.id, false, undefined, ctx.identity)),
      deleteCommunity: (_: unknown, a: { id: string; confirmSlug: string }, ctx: RequestContext) => svc.delete(a.id, a.confirmSlug, ctx.identity),
      createRole: async (_: unknown, a: { communityId: string; name: string; permissions: string[] }, ctx: RequestContext) => {
        const r = await svc.createRole(a.communityId, a.name, a.permissions, ctx.identity);
        return { id: r.id, name: r.name, permissions: r.permissions };
      },
      updateRole: async (_: unknown, a: { id: string; name?: string | null; permissions?: string[] | null }, ctx: RequestContext) => {
        const r = await svc.updateRole(a.id, { name: a.name, permissions: a.permissions }, ctx.identity);
        return { id: r.id, name: r.name, permissions: r.permissions };
      },
      deleteRole: (_: unknown, a: { id: string }, ctx: RequestContext) => svc.deleteRole(a.id, ctx.identity),
      assignRole: (_: unknown, a: { communityId: string; userId: string; roleId: string }, ctx: RequestContext) => svc.setCustomRole(a.communityId, a.userId, a.roleId, true, ctx.identity),
      unassignRole: (_: unknown, a: { communityId: string; userId: string; roleId: string }, ctx: RequestContext) => svc.setCustomRole(a.communityId, a.userId, a.roleId, false, ctx.identity),
      setSpaceOverride: (_: unknown, a: { spaceId: string; subject: string; allow: string[]; deny: string[] }, ctx: RequestContext) => svc.setSpaceOverride(a.spaceId, a.subject, a.allow, a.deny, ctx.identity),
      createInvite: async (_: unknown, a: { communityId: string; expiresInSeconds?: number | null; maxUses?: number | null }, ctx: RequestContext) =>
        toInvite(await svc.createInvite(a.communityId, a.expiresInSeconds ?? null, a.maxUses ?? null, ctx.identity)),
      revokeInvite: (_: unknown, a: { id: string }, ctx: RequestContext) => svc.revokeInvite(a.id, ctx.identity),
      joinByInvite: async (_: unknown, a: { code: string }, ctx: RequestContext) => toCommunity(await svc.joinByInvite(a.code, ctx.identity)),
      requestToJoin: async (_: unknown, a: { communityId: string; answers: string[] }, ctx: RequestContext) => toRequest(await svc.requestToJoin(a.communityId, a.answers, ctx.identity)),
      decideJoinRequest: async (_: unknown, a: { id: string; approve: boolean }, ctx: RequestContext) => toRequest(await svc.decideJoinRequest(a.id, a.approve, ctx.identity)),
      clearTimeout: async (_: unknown, a: { communityId: string; userId: string }, ctx: RequestContext) => toMember(await svc.clearTimeout(a.communityId, a.userId, ctx.identity)),
      transferOwnership: async (_: unknown, a: { communityId: string; userId: string; confirmSlug: string }, ctx: RequestContext) =>
        toCommunity(await svc.transferOwnership(a.communityId, a.userId, a.confirmSlug, ctx.identity)),
    },
  };
}
