'use client';
/** Settings → Members: change role, custom roles, time out, remove and ban — each behind a confirming dialog. */
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import {
  AssignRoleDocument,
  BanMemberDocument,
  ClearMemberTimeoutDocument,
  RemoveMemberDocument,
  SetMemberRoleDocument,
  TimeoutMemberDocument,
  UnassignRoleDocument,
  type CommunityRole,
  type CustomRoleFieldsFragment,
  type SettingsMembersQuery,
} from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { grantableRoles } from '@/lib/permissions';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, Checkbox, EmptyState, Notice, SelectField, TextAreaField } from '@/ui';
import { ActionDialog, personLabel, useDialog, useFocusRescue } from './shared';

type Member = SettingsMembersQuery['communityMembers'][number] & { rank: number };
type Action = 'role' | 'customRoles' | 'timeout' | 'remove' | 'ban';

/** Discord's timeout choices. */
export const TIMEOUTS = [
  { seconds: 60, key: 'duration.choice.60s' },
  { seconds: 300, key: 'duration.choice.5m' },
  { seconds: 600, key: 'duration.choice.10m' },
  { seconds: 3600, key: 'duration.choice.1h' },
  { seconds: 86_400, key: 'duration.choice.1d' },
  { seconds: 604_800, key: 'duration.choice.1w' },
] as const;
export const BAN_LENGTHS = [
  { value: 'permanent', key: 'duration.choice.permanent' },
  { value: '3600', key: 'duration.choice.1h' },
  { value: '86400', key: 'duration.choice.1d' },
  { value: '604800', key: 'duration.choice.1w' },
  { value: '2592000', key: 'duration.choice.30d' },
] as const;

export interface MemberModerationProps {
  communityId: string;
  viewerId: string;
  viewerRole: CommunityRole | null;
  viewerRank: number;
  viewerPermissions: string[];
  members: Member[];
  roles: CustomRoleFieldsFragment[];
  emptyMessage: string;
}

export function MemberModeration({ communityId, viewerId, viewerRole, viewerRank, viewerPermissions, members, roles, emptyMessage }: MemberModerationProps) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const dialog = useDialog();
  const listRef = useRef<HTMLUListElement>(null);
  useFocusRescue(listRef, members);
  const can = (p: string) => viewerPermissions.includes(p);
  const assignable = grantableRoles(viewerRole);
  // Lifting a timeout takes nothing away from anyone, so it needs no confirming dialog.
  const lift = useAction();
  const [liftingId, setLiftingId] = useState<string>();
  const liftTimeout = (m: Member) => {
    setLiftingId(m.user.id);
    setNotice(undefined);
    lift.run(async () => {
      await browserClient.request(ClearMemberTimeoutDocument, { communityId, userId: m.user.id });
      setNotice(t('settings.members.timeoutLifted', { name: personLabel(m.user) }));
      router.refresh();
    });
  };

  const current = members.find((m) => dialog.openId?.endsWith(`:${m.user.id}`));
  const action = dialog.openId?.split(':')[0] as Action | undefined;
  const name = current ? personLabel(current.user) : '';
  const done = (message: string) => {
    dialog.close();
    setNotice(message);
    router.refresh();
  };

  return (
    <div className="c-stack">
      <Notice message={notice} />
      {lift.error ? <Alert tone="error">{lift.error}</Alert> : null}
      {members.length === 0 ? (
        <EmptyState>{emptyMessage}</EmptyState>
      ) : (
        <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('members.listLabel')}>
          {members.map((m) => {
            const manageable = m.user.id !== viewerId && m.rank < viewerRank;
            const actions: { action: Action; label: string; variant: 'secondary' | 'danger' }[] = [];
            if (manageable && can('manage_roles') && assignable.length > 0) actions.push({ action: 'role', label: t('settings.members.changeRole'), variant: 'secondary' });
            if (manageable && can('manage_roles') && roles.length > 0) actions.push({ action: 'customRoles', label: t('settings.members.customRoles'), variant: 'secondary' });
            if (manageable && can('moderate_content')) actions.push({ action: 'timeout', label: t('settings.members.timeout'), variant: 'secondary' });
            if (manageable && can('manage_members')) actions.push({ action: 'remove', label: t('settings.members.remove'), variant: 'danger' });
            if (manageable && can('manage_members')) actions.push({ action: 'ban', label: t('settings.members.ban'), variant: 'danger' });
            // Same rights as timing out (the server checks rank and permission again).
            const canLift = manageable && can('moderate_content') && m.timedOutUntil !== null;
            return (
              <li key={m.user.id} className="c-row-between" data-testid="member">
                <div className="c-entry">
                  <span className="c-entry__title">
                    {m.user.displayName} <span className="c-muted">@{m.user.handle}</span> <Badge>{t(`role.${m.role}`)}</Badge>{' '}
                    {m.customRoles.map((r) => (
                      <Badge key={r.id}>{r.name}</Badge>
                    ))}
                  </span>
                  <p className="c-entry__meta">
                    <LocalTime iso={m.joinedAt} message="members.joined" />
                    {m.timedOutUntil ? (
                      <>
                        {' · '}
                        <Badge tone="warning">
                          <LocalTime iso={m.timedOutUntil} message="settings.members.timedOutUntil" />
                        </Badge>
                      </>
                    ) : null}
                  </p>
                </div>
                {actions.length || canLift ? (
                  <div className="c-actions">
                    {canLift ? (
                      <Button
                        variant="secondary"
                        pending={lift.pending && liftingId === m.user.id}
                        disabled={lift.pending && liftingId !== m.user.id}
                        aria-label={`${t('settings.members.liftTimeout')}: ${personLabel(m.user)}`}
                        onClick={() => liftTimeout(m)}
                      >
                        {t('settings.members.liftTimeout')}
                      </Button>
                    ) : null}
                    {actions.map((a) => (
                      <Button key={a.action} variant={a.variant} aria-label={`${a.label}: ${personLabel(m.user)}`} onClick={() => dialog.open(`${a.action}:${m.user.id}`)}>
                        {a.label}
                      </Button>
                    ))}
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}

      <ActionDialog
        open={action === 'role' && current !== undefined}
        onClose={dialog.close}
        title={t('settings.members.changeRoleTitle', { name })}
        submitLabel={t('settings.members.changeRole')}
        action={async (v) => {
          const role = v.role as CommunityRole;
          await browserClient.request(SetMemberRoleDocument, { communityId, userId: current!.user.id, role });
          done(t('settings.members.roleChanged', { name, role: t(`role.${role}`) }));
        }}
      >
        {(form) => (
          <SelectField
            name="role"
            label={t('settings.members.newRole')}
            description={t('settings.members.newRoleHint')}
            required
            defaultValue={current?.role}
            options={assignable.map((r) => ({ value: r, label: t(`role.${r}`) }))}
            {...form.fieldState('role')}
          />
        )}
      </ActionDialog>

      <ActionDialog
        open={action === 'customRoles' && current !== undefined}
        onClose={dialog.close}
        title={t('settings.members.customRolesTitle', { name })}
        submitLabel={t('common.save')}
        action={async (v) => {
          const had = new Set(current!.customRoles.map((r) => r.id));
          for (const role of roles) {
            const wants = v[`role.${role.id}`] === 'on';
            if (wants && !had.has(role.id)) await browserClient.request(AssignRoleDocument, { communityId, userId: current!.user.id, roleId: role.id });
            if (!wants && had.has(role.id)) await browserClient.request(UnassignRoleDocument, { communityId, userId: current!.user.id, roleId: role.id });
          }
          done(t('settings.members.customRolesSaved', { name }));
        }}
      >
        {() => (
          <fieldset className="c-fieldset">
            <legend>{t('settings.members.customRoles')}</legend>
            {roles.map((r) => (
              <Checkbox key={r.id} name={`role.${r.id}`} label={r.name} defaultChecked={current?.customRoles.some((c) => c.id === r.id) ?? false} />
            ))}
          </fieldset>
        )}
      </ActionDialog>

      <ActionDialog
        open={action === 'timeout' && current !== undefined}
        onClose={dialog.close}
        title={t('settings.members.timeoutTitle', { name })}
        description={<p>{t('settings.members.timeoutHint')}</p>}
        submitLabel={t('settings.members.timeout')}
        action={async (v) => {
          await browserClient.request(TimeoutMemberDocument, { communityId, userId: current!.user.id, durationSeconds: Number(v.durationSeconds), reason: v.reason ?? '' });
          done(t('settings.members.timedOut', { name }));
        }}
      >
        {(form) => (
          <>
            <SelectField
              name="durationSeconds"
              label={t('settings.members.duration')}
              required
              defaultValue="3600"
              options={TIMEOUTS.map((d) => ({ value: String(d.seconds), label: t(d.key) }))}
              {...form.fieldState('durationSeconds')}
            />
            <TextAreaField name="reason" label={t('settings.members.reason')} rows={2} maxLength={500} {...form.fieldState('reason')} />
          </>
        )}
      </ActionDialog>

      <ActionDialog
        open={action === 'remove' && current !== undefined}
        onClose={dialog.close}
        title={t('settings.members.removeTitle', { name })}
        description={<p>{t('settings.members.removeHint')}</p>}
        submitLabel={t('settings.members.remove')}
        variant="danger"
        fallbackFocus={listRef}
        action={async (v) => {
          await browserClient.request(RemoveMemberDocument, { communityId, userId: current!.user.id, reason: v.reason ?? '' });
          done(t('settings.members.removed', { name }));
        }}
      >
        {(form) => <TextAreaField name="reason" label={t('settings.members.reason')} rows={2} maxLength={500} {...form.fieldState('reason')} />}
      </ActionDialog>

      <ActionDialog
        open={action === 'ban' && current !== undefined}
        onClose={dialog.close}
        title={t('settings.members.banTitle', { name })}
        description={<p>{t('settings.members.banHint')}</p>}
        submitLabel={t('settings.members.ban')}
        variant="danger"
        fallbackFocus={listRef}
        action={async (v) => {
          await browserClient.request(BanMemberDocument, { communityId, userId: current!.user.id, reason: v.reason ?? '', durationSeconds: v.durationSeconds && v.durationSeconds !== 'permanent' ? Number(v.durationSeconds) : null });
          done(t('settings.members.banned', { name }));
        }}
      >
        {(form) => (
          <>
            <TextAreaField name="reason" label={t('settings.members.reason')} rows={2} maxLength={500} {...form.fieldState('reason')} />
            <SelectField
              name="durationSeconds"
              label={t('settings.members.banLength')}
              required
              defaultValue="permanent"
              options={BAN_LENGTHS.map((d) => ({ value: d.value, label: t(d.key) }))}
              {...form.fieldState('durationSeconds')}
            />
          </>
        )}
      </ActionDialog>
    </div>
  );
}
