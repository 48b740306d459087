'use client';
/** Settings → Invites: make a link (expiry and uses as on Discord), list links with their state, copy, revoke. */
import { useRouter } from 'next/navigation';
import { useCallback, useRef, useState } from 'react';
import { CreateInviteDocument, RevokeInviteDocument, type CommunityInvitesQuery } from '@circles/client';
import { CopyButton } from '@/components/CopyButton';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, EmptyState, Form, Notice, SelectField, useForm, type FormValues } from '@/ui';
import { personLabel, useFocusRescue } from './shared';

export const INVITE_EXPIRIES = [
  { value: '1800', key: 'duration.choice.30m' },
  { value: '3600', key: 'duration.choice.1h' },
  { value: '86400', key: 'duration.choice.1d' },
  { value: '604800', key: 'duration.choice.1w' },
  { value: 'never', key: 'duration.choice.never' },
] as const;
export const INVITE_USES = ['unlimited', '1', '5', '10', '25', '100'] as const;

export function InviteCreator({ communityId, joinBase }: { communityId: string; joinBase: string }) {
  const router = useRouter();
  const [link, setLink] = useState<string>();
  const action = useCallback(
    async (v: FormValues) => {
      setLink(undefined);
      const { createInvite } = await browserClient.request(CreateInviteDocument, {
        communityId,
        expiresInSeconds: v.expiresInSeconds && v.expiresInSeconds !== 'never' ? Number(v.expiresInSeconds) : null,
        maxUses: v.maxUses && v.maxUses !== 'unlimited' ? Number(v.maxUses) : null,
      });
      setLink(`${joinBase}${createInvite.code}`);
      router.refresh();
    },
    [communityId, joinBase, router],
  );
  const form = useForm(action);
  return (
    <div className="c-stack">
      <Form controller={form} aria-label={t('settings.invites.create')}>
        <div className="c-grid c-grid--2">
          <SelectField
            name="expiresInSeconds"
            label={t('settings.invites.expireAfter')}
            required
            defaultValue="604800"
            options={INVITE_EXPIRIES.map((e) => ({ value: e.value, label: t(e.key) }))}
            {...form.fieldState('expiresInSeconds')}
          />
          <SelectField
            name="maxUses"
            label={t('settings.invites.maxUses')}
            required
            defaultValue="unlimited"
            options={INVITE_USES.map((u) => ({ value: u, label: u === 'unlimited' ? t('settings.invites.unlimited') : t('settings.invites.uses', { count: u }) }))}
            {...form.fieldState('maxUses')}
          />
        </div>
        <div>
          <Button type="submit" pending={form.pending}>
            {t('settings.invites.createSubmit')}
          </Button>
        </div>
      </Form>
      <div role="status">
        {link ? (
          <div className="c-alert c-alert--success c-stack">
            <p>{t('settings.invites.created')}</p>
            <div className="c-invite-link">
              <label htmlFor="new-invite-link" className="c-visually-hidden">
                {t('settings.invites.newLink')}
              </label>
              <input id="new-invite-link" className="c-field__input" readOnly value={link} data-testid="new-invite-link" onFocus={(e) => e.currentTarget.select()} />
              <CopyButton text={link} />
            </div>
          </div>
        ) : null}
      </div>
    </div>
  );
}

export type InviteStatus = 'active' | 'expired' | 'usedUp' | 'revoked';
type Invite = CommunityInvitesQuery['communityInvites'][number] & { status: InviteStatus };

/**
 * @param seesAll the viewer manages members: the list holds everyone's links and they may revoke any; otherwise it
 *   holds only their own.
 */
export function InviteList({ invites, joinBase, viewerId, seesAll, label }: { invites: Invite[]; joinBase: string; viewerId: string; seesAll: boolean; label: string }) {
  const router = useRouter();
  const { pending, error, run } = useAction();
  const [busyId, setBusyId] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const listRef = useRef<HTMLUListElement>(null);
  useFocusRescue(listRef, invites);
  if (invites.length === 0) return <EmptyState>{seesAll ? t('settings.invites.empty') : t('settings.invites.emptyOwn')}</EmptyState>;
  return (
    <div className="c-stack">
      <Notice message={notice} />
      {error ? <Alert tone="error">{error}</Alert> : null}
      <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={label} aria-busy={pending}>
        {invites.map((invite) => {
          const link = `${joinBase}${invite.code}`;
          const mayRevoke = invite.status === 'active' && (seesAll || invite.createdBy.id === viewerId);
          return (
            <li key={invite.id} className="c-row-between" data-testid="invite">
              <div className="c-entry">
                <span className="c-entry__title">
                  <span className="c-mono">{link}</span> <Badge tone={invite.status === 'active' ? 'success' : 'warning'}>{t(`settings.invites.status.${invite.status}`)}</Badge>
                </span>
                <p className="c-entry__meta">
                  {invite.maxUses === null ? t('settings.invites.usedUnlimited', { uses: invite.uses }) : t('settings.invites.usedOf', { uses: invite.uses, max: invite.maxUses })} ·{' '}
                  {invite.expiresAt ? <LocalTime iso={invite.expiresAt} message={invite.status === 'expired' ? 'settings.invites.expired' : 'settings.invites.expires'} /> : t('settings.invites.neverExpires')}
                  {/* Whose link it is matters only in the list of everyone's. */}
                  {seesAll ? ` · ${t('settings.invites.createdBy', { name: personLabel(invite.createdBy) })}` : null}
                </p>
              </div>
              <div className="c-actions">
                {invite.status === 'active' ? <CopyButton text={link} accessibleLabel={t('settings.invites.copyLabel', { code: invite.code })} /> : null}
                {mayRevoke ? (
                  <Button
                    variant="danger"
                    pending={pending && busyId === invite.id}
                    disabled={pending && busyId !== invite.id}
                    aria-label={t('settings.invites.revokeLabel', { code: invite.code })}
                    onClick={() => {
                      setBusyId(invite.id);
                      setNotice(undefined);
                      run(async () => {
                        await browserClient.request(RevokeInviteDocument, { id: invite.id });
                        setNotice(t('settings.invites.revoked'));
                        router.refresh();
                      });
                    }}
                  >
                    {t('settings.invites.revoke')}
                  </Button>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
