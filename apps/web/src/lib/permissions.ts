/**
 * The community's named permissions and the settings sections they open. Shared by server pages (what to show)
 * and client components (what to offer); the server enforces every rule again.
 */
import type { CommunityRole } from '@circles/client';

export const PERMISSIONS = [
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
export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export type SettingsSection = 'general' | 'roles' | 'permissions' | 'members' | 'invites' | 'requests' | 'bans' | 'circles' | 'tiers' | 'revenue' | 'audit';

/** In nav order; a section shows when the viewer holds any one of its permissions. */
export const SECTIONS: { key: SettingsSection; needs: Permission[] }[] = [
  { key: 'general', needs: ['manage_community'] },
  { key: 'members', needs: ['manage_members', 'manage_roles', 'moderate_content'] },
  { key: 'roles', needs: ['manage_roles'] },
  { key: 'permissions', needs: ['manage_roles'] },
  { key: 'circles', needs: ['manage_circles'] },
  // Paid circles: the payments service lets the owner and admins (manage community) run sales.
  { key: 'tiers', needs: ['manage_community'] },
  { key: 'revenue', needs: ['manage_community'] },
  { key: 'invites', needs: ['invite'] },
  { key: 'requests', needs: ['manage_members'] },
  { key: 'bans', needs: ['manage_members'] },
  { key: 'audit', needs: ['view_audit_log'] },
];

export function allowedSections(permissions: readonly string[]): SettingsSection[] {
  return SECTIONS.filter((s) => s.needs.some((p) => permissions.includes(p))).map((s) => s.key);
}

/** Everything but inviting: what makes someone a manager worth a "Settings" link. */
export function managesSomething(permissions: readonly string[]): boolean {
  return allowedSections(permissions).some((s) => s !== 'invites');
}

export const ROLE_RANK: Record<CommunityRole, number> = { OWNER: 4, ADMIN: 3, MODERATOR: 2, MEMBER: 1 };

/** Built-in roles the viewer may hand out: those ranked below their own (never owner: that is a transfer). */
export function grantableRoles(viewerRole: CommunityRole | null): CommunityRole[] {
  if (!viewerRole) return [];
  return (['ADMIN', 'MODERATOR', 'MEMBER'] as const).filter((r) => ROLE_RANK[r] < ROLE_RANK[viewerRole]);
}

const MANAGING: readonly Permission[] = ['manage_community', 'manage_circles', 'manage_members', 'manage_roles', 'moderate_content'];

/**
 * Rank for "who manages whom", as the server's policy has it: the built-in role's, except that a plain member
 * holding a managing permission through a custom role sits just above members.
 */
export function effectiveRank(role: CommunityRole | null, customPermissions: readonly string[]): number {
  if (!role) return 0;
  return role === 'MEMBER' && customPermissions.some((p) => (MANAGING as readonly string[]).includes(p)) ? 1.5 : ROLE_RANK[role];
}

/** Ids are UUIDs: anything else cannot exist, so a page can answer 404 without asking the API. */
export function looksLikeId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
