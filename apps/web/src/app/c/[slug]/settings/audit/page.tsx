import type { Metadata } from 'next';
import Link from 'next/link';
import { AuditLogDocument, SettingsMembersDocument } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { VerifyChainButton } from '@/components/settings/AuditSettings';
import { hasMessage, t } from '@/i18n';
import { AUDIT_ACTIONS, describeChanges } from '@/lib/audit';
import { formatDateTime } from '@/lib/format';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Card, EmptyState, TableScroller } from '@/ui';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const PAGE = 100;

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'audit');
  return { title: t('settings.title', { section: t('settings.nav.audit'), name: community.name }), robots: { index: false, follow: false } };
}

function actionLabel(action: string): string {
  const key = `audit.action.${action}`;
  return hasMessage(key) ? t(key as 'audit.action.member.ban') : action;
}

export default async function AuditLogPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const { action: raw } = await searchParams;
  const action = typeof raw === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(raw) ? raw : null;
  const { community } = await requireSettings(slug, 'audit');
  const client = await serverClient();
  const [{ auditLog }, people] = await Promise.all([
    client.request(AuditLogDocument, { communityId: community.id, action, first: PAGE }),
    // Ids inside the changes (a new owner, a role, a circle) get names from what this page knows.
    client.request(SettingsMembersDocument, { communityId: community.id, first: 200 }),
  ]);
  const names = new Map<string, string>([[community.id, community.name]]);
  for (const m of people.communityMembers) names.set(m.user.id, t('common.person', { name: m.user.displayName, handle: m.user.handle }));
  // A record about a person names them itself, even after they left or were banned.
  for (const r of auditLog) if (r.targetUser) names.set(r.targetUser.id, t('common.person', { name: r.targetUser.displayName, handle: r.targetUser.handle }));
  for (const r of people.communityRoles) names.set(r.id, r.name);
  for (const c of community.circles) names.set(c.id, c.name);
  names.set(community.publicCenter.id, t('space.publicCenter'));
  const target = (r: (typeof auditLog)[number]) =>
    r.targetUser ? t('common.person', { name: r.targetUser.displayName, handle: r.targetUser.handle }) : (names.get(r.targetId) ?? t('settings.audit.unknownTarget', { type: r.targetType, id: r.targetId.slice(0, 8) }));

  return (
    <>
      <h1>{t('settings.audit.title')}</h1>
      <p className="c-muted">{t('settings.audit.lead')}</p>
      <Card title={t('settings.audit.verifyTitle')}>
        <VerifyChainButton communityId={community.id} />
      </Card>
      <Card title={t('settings.audit.recordsTitle')}>
        <form method="get" className="c-search" aria-label={t('settings.audit.filter')}>
          <div className="c-field">
            <label htmlFor="audit-action" className="c-field__label">
              {t('settings.audit.action')}
            </label>
            <select id="audit-action" name="action" defaultValue={action ?? ''} className="c-field__input c-field__select">
              <option value="">{t('settings.audit.allActions')}</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {actionLabel(a)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="c-button c-button--secondary">
            {t('settings.audit.applyFilter')}
          </button>
          {action ? (
            <Link href={`/c/${community.slug}/settings/audit`} className="c-button c-button--quiet">
              {t('settings.audit.clearFilter')}
            </Link>
          ) : null}
        </form>
        <div className="c-after-form">
          {auditLog.length === 0 ? (
            <EmptyState>{action ? t('settings.audit.noneForAction', { action: actionLabel(action) }) : t('settings.audit.empty')}</EmptyState>
          ) : (
            <>
              <p className="c-muted">{auditLog.length === PAGE ? t('settings.audit.latest', { count: PAGE }) : t('settings.audit.count', { count: auditLog.length })}</p>
              <TableScroller label={t('settings.audit.recordsTitle')}>
                <table className="c-table c-table--wide" data-testid="audit-log">
                  <caption className="c-visually-hidden">{t('settings.audit.recordsTitle')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">{t('settings.audit.time')}</th>
                      <th scope="col">{t('settings.audit.actorAndIp')}</th>
                      <th scope="col">{t('settings.audit.action')}</th>
                      <th scope="col">{t('settings.audit.target')}</th>
                    </tr>
                  </thead>
                  {/* One group per record: its facts in a row, then what changed across the whole width below. */}
                  {auditLog.map((r) => {
                    const changes = describeChanges(r.before, r.after, names);
                    return (
                      <tbody key={r.id} className="c-audit-record">
                        <tr>
                          <td>{r.sequence}</td>
                          <td>
                            <time dateTime={r.occurredAt} className="c-nowrap">
                              {formatDateTime(r.occurredAt, 'UTC')} UTC
                            </time>
                            <br />
                            <span className="c-muted c-small">
                              <LocalTime iso={r.occurredAt} message="settings.audit.localTime" />
                            </span>
                          </td>
                          <td>
                            {t('common.person', { name: r.actor.displayName, handle: r.actor.handle })}
                            <br />
                            <span className="c-muted c-small c-mono">{r.ip ? t('settings.audit.ipValue', { ip: r.ip }) : t('settings.audit.noIp')}</span>
                          </td>
                          <td>{actionLabel(r.action)}</td>
                          <td>{target(r)}</td>
                        </tr>
                        {changes.length ? (
                          <tr className="c-audit-changes">
                            <td colSpan={5}>
                              <span className="c-muted c-small">{t('settings.audit.changes')}</span>
                              <ul className="c-diff">
                                {changes.map((c) => (
                                  <li key={c.field}>
                                    <span>{c.field}: </span>
                                    {c.before !== undefined ? (
                                      <del>
                                        <span className="c-visually-hidden">{t('settings.audit.was')} </span>
                                        {c.before}
                                      </del>
                                    ) : null}
                                    {c.before !== undefined && c.after !== undefined ? ' → ' : null}
                                    {c.after !== undefined ? (
                                      <ins>
                                        <span className="c-visually-hidden">{t('settings.audit.now')} </span>
                                        {c.after}
                                      </ins>
                                    ) : null}
                                  </li>
                                ))}
                              </ul>
                            </td>
                          </tr>
                        ) : null}
                      </tbody>
                    );
                  })}
                </table>
              </TableScroller>
            </>
          )}
        </div>
      </Card>
    </>
  );
}
