/**
 * Who may do what in a community. Built-in roles map to named permissions; custom roles and per-space overrides
 * extend this table (see issue "Communities … roles, permissions").
 */
export const permissions = [
  'manage_community',
  'manage_circles',
  'manage_members',
  'manage_roles',
  'moderate_content',
  'post',
  'comment',
  'chat',
  'speak',
  'invite',
  'view_audit_log',
] as const;
export type Permission = (typeof permissions)[number];
export type Role = 'owner' | 'admin' | 'moderator' | 'member';

const participate: Permission[] = ['post', 'comment', 'chat', 'speak', 'invite'];
const grants: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(permissions),
  admin: new Set(permissions),
  moderator: new Set<Permission>([...participate, 'moderate_content', 'manage_members', 'view_audit_log']),
  member: new Set<Permission>(participate),
};

export const roleAllows = (role: Role | null, permission: Permission): boolean => role !== null && grants[role].has(permission);

export type Visibility = 'listed' | 'unlisted' | 'private';
export type JoinPolicy = 'open' | 'approval' | 'invite';
export type CircleAccess = 'open' | 'approval' | 'invite' | 'paid';

/** Private communities are invisible to non-members; listed and unlisted ones can be seen by anyone with the link. */
export const canSee = (visibility: Visibility, role: Role | null): boolean => visibility !== 'private' || role !== null;

/** Who outranks whom: you manage only members below you and grant only roles below your own. */
export const rank: Record<Role, number> = { owner: 4, admin: 3, moderator: 2, member: 1 };

/** What a timed-out member loses until the timeout ends. */
export const participation: ReadonlySet<Permission> = new Set<Permission>(['post', 'comment', 'chat', 'speak']);


/** Everything that decides a member's permissions, loaded once per check. */
export interface Grants {
  role: Role | null;
  timedOutUntil: Date | null;
  customRoleIds: string[];
  customPermissions: Permission[];
}

export interface Override {
  /** A built-in role name ("member", "moderator") or a custom role id. */
  subject: string;
  allow: string[];
  deny: string[];
}

const managing: ReadonlySet<Permission> = new Set<Permission>(['manage_community', 'manage_circles', 'manage_members', 'manage_roles', 'moderate_content']);

/**
 * The policy: a member's permissions are their built-in role's plus their custom roles'. In a space, overrides apply
 * in two layers, as in Discord channel overwrites: first the one for their built-in role (deny, then allow), then
 * those for their custom roles (all denies, then all allows) — so "members may not post here, Speakers may" works.
 * Overrides never restrict owners and admins. A timeout removes the participation permissions until it ends.
 */
export function effectivePermissions(g: Grants, overrides: Override[] = [], now = new Date()): Set<Permission> {
  if (!g.role) return new Set();
  const out = new Set<Permission>([...grants[g.role], ...g.customPermissions]);
  if (g.role !== 'owner' && g.role !== 'admin' && overrides.length) {
    const layer = (subjects: Set<string>) => {
      const matching = overrides.filter((o) => subjects.has(o.subject));
      for (const o of matching) for (const p of o.deny) out.delete(p as Permission);
      for (const o of matching) for (const p of o.allow) out.add(p as Permission);
    };
    layer(new Set([g.role]));
    layer(new Set(g.customRoleIds));
  }
  if (g.timedOutUntil && g.timedOutUntil > now) for (const p of participation) out.delete(p);
  return out;
}

/** Rank for "who manages whom": a plain member holding a custom managing permission sits just above members. */
export function effectiveRank(g: Grants): number {
  if (!g.role) return 0;
  return g.role === 'member' && g.customPermissions.some((p) => managing.has(p)) ? 1.5 : rank[g.role];
}
