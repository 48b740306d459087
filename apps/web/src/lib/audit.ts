/** Reading audit records: the actions there are, and a record's before/after as a readable list of changes. */
import { t } from '@/i18n';

/** Every action the community service records (services/community/src/service.ts). */
export const AUDIT_ACTIONS = [
  'community.create',
  'community.update',
  'community.archive',
  'community.unarchive',
  'community.transfer',
  'community.delete',
  'community.avatar',
  'community.banner',
  'member.role',
  'member.role.assign',
  'member.role.unassign',
  'member.timeout',
  'member.timeout.clear',
  'member.remove',
  'member.ban',
  'member.unban',
  'role.create',
  'role.update',
  'role.delete',
  'space.permissions',
  'circle.create',
  'circle.update',
  'circle.delete',
  'circle.image',
  'circle.member.add',
  'circle.member.remove',
  'invite.create',
  'invite.revoke',
  'request.approve',
  'request.reject',
] as const;

export interface Change {
  field: string;
  /** Absent when the field was added. */
  before?: string;
  /** Absent when the field was removed. */
  after?: string;
}

function parse(json: string | null): Record<string, unknown> | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { value: json };
  }
}

/** A value as text; ids the page knows (people, roles, circles) become their names. */
function show(value: unknown, names: ReadonlyMap<string, string>): string {
  if (value === null || value === undefined) return t('settings.audit.none');
  if (typeof value === 'string') return names.get(value) ?? value;
  if (Array.isArray(value)) return value.length ? value.map((v) => show(v, names)).join(', ') : t('settings.audit.none');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Fields that changed, in the order they appear; unchanged fields are left out. */
export function describeChanges(beforeJson: string | null, afterJson: string | null, names: ReadonlyMap<string, string>): Change[] {
  const before = parse(beforeJson) ?? {};
  const after = parse(afterJson) ?? {};
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const out: Change[] = [];
  for (const field of fields) {
    const had = field in before;
    const has = field in after;
    const b = had ? show(before[field], names) : undefined;
    const a = has ? show(after[field], names) : undefined;
    if (had && has && b === a) continue;
    out.push({ field, ...(b !== undefined ? { before: b } : {}), ...(a !== undefined ? { after: a } : {}) });
  }
  return out;
}
