import { createHash } from 'node:crypto';

export const GENESIS = 'genesis';

export interface AuditContent {
  communityId: string;
  sequence: number;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  ip: string | null;
  occurredAt: string;
}

/** JSON with sorted keys: PostgreSQL's jsonb does not keep key order, the hash must not depend on it. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Hashes exactly the content fields (whatever else the object carries, such as ids or stored hashes). */
export const auditHash = (prevHash: string, c: AuditContent): string => {
  const content: AuditContent = {
    communityId: c.communityId,
    sequence: c.sequence,
    actorId: c.actorId,
    action: c.action,
    targetType: c.targetType,
    targetId: c.targetId,
    before: c.before ?? null,
    after: c.after ?? null,
    ip: c.ip ?? null,
    occurredAt: c.occurredAt,
  };
  return createHash('sha256').update(prevHash).update('\n').update(canonical(content)).digest('hex');
};

export interface StoredAudit extends AuditContent {
  prevHash: string;
  hash: string;
}

export type ChainVerdict = { valid: true; checked: number } | { valid: false; checked: number; firstInvalidSequence: number; reason: string };

/**
 * Walks a community's chain in order. A record whose content no longer matches its hash is named; a record that is
 * intact but does not follow its predecessor means the predecessor was rewritten (hash recomputed) and that one is
 * named; a gap in sequence numbers or a chain shorter than its recorded head means records were deleted.
 */
export function verifyChain(records: StoredAudit[], head: { sequence: number; hash: string } | null): ChainVerdict {
  let prevHash = GENESIS;
  let expected = 1;
  for (const r of records) {
    if (r.sequence !== expected) return { valid: false, checked: expected - 1, firstInvalidSequence: expected, reason: `record ${expected} is missing` };
    if (auditHash(r.prevHash, r) !== r.hash) return { valid: false, checked: expected - 1, firstInvalidSequence: r.sequence, reason: `record ${r.sequence} was altered` };
    if (r.prevHash !== prevHash) {
      const culprit = r.sequence === 1 ? 1 : r.sequence - 1;
      return { valid: false, checked: expected - 1, firstInvalidSequence: culprit, reason: `record ${culprit} was altered` };
    }
    prevHash = r.hash;
    expected++;
  }
  const last = records.length;
  if (head && (head.sequence !== last || head.hash !== (records.at(-1)?.hash ?? GENESIS))) {
    return head.sequence > last
      ? { valid: false, checked: last, firstInvalidSequence: last + 1, reason: `record ${last + 1} is missing` }
      : { valid: false, checked: last, firstInvalidSequence: Math.max(1, last), reason: `record ${Math.max(1, last)} was altered` };
  }
  return { valid: true, checked: last };
}
