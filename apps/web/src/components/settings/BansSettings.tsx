'use client';
/** Settings → Bans: who is banned, why and until when; lifting a ban. */
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { UnbanMemberDocument, type CommunityBansQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { Badge, Button, EmptyState, Notice } from '@/ui';
import { ActionDialog, personLabel, useDialog, useFocusRescue } from './shared';

type Ban = CommunityBansQuery['communityBans'][number];

export function BanList({ communityId, bans }: { communityId: string; bans: Ban[] }) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const dialog = useDialog();
  const listRef = useRef<HTMLUListElement>(null);
  const statusRef = useRef<HTMLDivElement>(null);
  useFocusRescue(bans.length ? listRef : statusRef, bans);
  const lifting = bans.find((b) => dialog.isOpen(b.user.id));

  return (
    <div className="c-stack">
      <div ref={statusRef} tabIndex={-1}>
        <Notice message={notice} />
      </div>
      {bans.length === 0 ? (
        <EmptyState>{t('settings.bans.empty')}</EmptyState>
      ) : (
        <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('settings.bans.listTitle')}>
          {bans.map((b) => (
            <li key={b.user.id} className="c-row-between" data-testid="ban">
              <div className="c-entry">
                <span className="c-entry__title">
                  {b.user.displayName} <span className="c-muted">@{b.user.handle}</span>{' '}
                  {b.expiresAt ? (
                    <Badge tone="warning">
                      <LocalTime iso={b.expiresAt} message="settings.bans.until" />
                    </Badge>
                  ) : (
                    <Badge tone="warning">{t('settings.bans.permanent')}</Badge>
                  )}
                </span>
                <span>{b.reason ? t('settings.bans.reason', { reason: b.reason }) : <span className="c-muted">{t('settings.bans.noReason')}</span>}</span>
                <p className="c-entry__meta">
                  {t('settings.bans.by', { name: personLabel(b.bannedBy) })} · <LocalTime iso={b.createdAt} />
                </p>
              </div>
              <Button variant="secondary" aria-label={`${t('settings.bans.unban')}: ${personLabel(b.user)}`} onClick={() => dialog.open(b.user.id)}>
                {t('settings.bans.unban')}
              </Button>
            </li>
          ))}
        </ul>
      )}
      <ActionDialog
        open={lifting !== undefined}
        onClose={dialog.close}
        title={t('settings.bans.unbanTitle', { name: lifting ? personLabel(lifting.user) : '' })}
        description={<p>{t('settings.bans.unbanHint')}</p>}
        submitLabel={t('settings.bans.unban')}
        fallbackFocus={listRef}
        action={async () => {
          const name = personLabel(lifting!.user);
          await browserClient.request(UnbanMemberDocument, { communityId, userId: lifting!.user.id });
          dialog.close();
          setNotice(t('settings.bans.unbanned', { name }));
          router.refresh();
        }}
      />
    </div>
  );
}
