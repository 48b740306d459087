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

/** The policy: may someone with this role (and timeout) do this? */
export function allows(role: Role | null, permission: Permission, timedOutUntil: Date | null, now = new Date()): boolean {
  if (!roleAllows(role, permission)) return false;
  return !(timedOutUntil && timedOutUntil > now && participation.has(permission));
}
