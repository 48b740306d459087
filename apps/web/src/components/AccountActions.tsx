'use client';
/** The signed-in actions on /account (and the resend offer on /verify-email). */
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ChangePasswordDocument,
  ClientError,
  LogOutDocument,
  LogOutEverywhereElseDocument,
  ResendVerificationEmailDocument,
  RevokeSessionDocument,
  UpdateProfileDocument,
} from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, EmptyState, Form, TextField, useForm, type FormValues } from '@/ui';
import { LocalTime } from './LocalTime';
import { HandleField } from './HandleField';
import { NewPasswordField } from './NewPasswordField';

export interface SessionView {
  id: string;
  current: boolean;
  /** "Firefox on Linux", or null when the user agent says nothing useful. */
  device: string | null;
  userAgent: string | null;
  ip: string | null;
  lastSeenAt: string;
  createdAt: string;
}

export function SessionList({ sessions }: { sessions: SessionView[] }) {
  const router = useRouter();
  const { pending, error, run } = useAction();
  const [busyId, setBusyId] = useState<string | null>(null);
  const [notice, setNotice] = useState<string>();
  const [keepFocus, setKeepFocus] = useState(false);
  const listRef = useRef<HTMLUListElement>(null);
  const others = sessions.filter((s) => !s.current);

  // The pressed button goes away with its row (or with the last other session): rather than drop keyboard focus
  // to the top of the page, put it on the list, where the outcome is.
  useEffect(() => {
    if (pending || !keepFocus) return;
    setKeepFocus(false);
    if (!document.activeElement || document.activeElement === document.body) listRef.current?.focus();
  }, [pending, keepFocus]);

  const revoke = (id: string) => {
    setBusyId(id);
    setKeepFocus(true);
    setNotice(undefined);
    run(async () => {
      try {
        await browserClient.request(RevokeSessionDocument, { id });
        setNotice(t('account.revoked'));
        router.refresh();
      } finally {
        setBusyId(null);
      }
    });
  };
  const revokeOthers = () => {
    setBusyId('*');
    setKeepFocus(true);
    setNotice(undefined);
    run(async () => {
      try {
        const { logOutEverywhereElse: count } = await browserClient.request(LogOutEverywhereElseDocument);
        setNotice(t('account.loggedOutOthers', { count }));
        router.refresh();
      } finally {
        setBusyId(null);
      }
    });
  };

  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      {/* Always mounted, so the confirmation is announced when it appears. */}
      <div role="status">{notice ? <p className="c-alert c-alert--success">{notice}</p> : null}</div>
      <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('account.sessions')} aria-busy={pending}>
        {sessions.map((s) => {
          const device = s.device ?? t('account.unknownDevice');
          return (
            <li key={s.id} data-testid="session" className="c-session">
              <div>
                <p className="c-session__device">
                  <strong title={s.userAgent ?? undefined}>{device}</strong> {s.current ? <Badge tone="success">{t('account.thisDevice')}</Badge> : null}
                </p>
                <p className="c-session__meta">
                  {s.ip ? t('account.ip', { ip: s.ip }) : t('account.unknownIp')} · <LocalTime iso={s.lastSeenAt} message="account.lastSeen" /> ·{' '}
                  <LocalTime iso={s.createdAt} message="account.signedIn" />
                </p>
              </div>
              {s.current ? null : (
                <Button
                  variant="danger"
                  pending={pending && busyId === s.id}
                  disabled={pending && busyId !== s.id}
                  onClick={() => revoke(s.id)}
                  title={t('account.revokeLabel', { device })}
                >
                  {t('account.revoke')}
                </Button>
              )}
            </li>
          );
        })}
      </ul>
      {others.length === 0 ? (
        <EmptyState>{t('account.noOtherSessions')}</EmptyState>
      ) : (
        <Button variant="secondary" pending={pending && busyId === '*'} disabled={pending && busyId !== '*'} onClick={revokeOthers}>
          {t('account.logOutOthers')}
        </Button>
      )}
    </div>
  );
}

export function ResendVerificationButton({ email }: { email: string }) {
  const { pending, error, run } = useAction();
  const [sent, setSent] = useState(false);
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      {sent ? <Alert tone="success">{t('resend.sent', { email })}</Alert> : null}
      <Button
        variant="secondary"
        pending={pending}
        onClick={() =>
          run(async () => {
            setSent(false);
            await browserClient.request(ResendVerificationEmailDocument);
            setSent(true);
          })
        }
      >
        {t('resend.submit')}
      </Button>
    </div>
  );
}

/** Handle and display name; the page re-renders with the saved values (and the header's name) on success. */
export function ProfileForm({ handle, displayName }: { handle: string; displayName: string }) {
  const router = useRouter();
  const [done, setDone] = useState(false);
  const action = useCallback(
    async (v: FormValues) => {
      setDone(false);
      await browserClient.request(UpdateProfileDocument, { input: { handle: v.handle ?? '', displayName: v.displayName ?? '' } });
      setDone(true);
      router.refresh();
    },
    [router],
  );
  const form = useForm(action);
  return (
    <div className="c-stack">
      {done ? <Alert tone="success">{t('account.profileSaved')}</Alert> : null}
      <Form controller={form} aria-label={t('account.editProfile')}>
        <HandleField form={form} description={t('account.handleChangeHint')} defaultValue={handle} />
        <TextField name="displayName" label={t('field.displayName')} autoComplete="name" required defaultValue={displayName} {...form.fieldState('displayName')} />
        <div>
          <Button type="submit" pending={form.pending}>
            {t('account.saveProfile')}
          </Button>
        </div>
      </Form>
    </div>
  );
}

export function ChangePasswordForm() {
  const router = useRouter();
  const [done, setDone] = useState(false);
  const action = useCallback(
    async (v: FormValues) => {
      setDone(false);
      try {
        await browserClient.request(ChangePasswordDocument, { input: { currentPassword: v.currentPassword ?? '', newPassword: v.newPassword ?? '' } });
      } catch (err) {
        // Here "credentials do not match" can only mean the current password is wrong: say so on that field.
        if (err instanceof ClientError && err.code === 'INVALID_CREDENTIALS') {
          throw new ClientError({ code: 'BAD_USER_INPUT', message: t('account.wrongCurrentPassword'), field: 'currentPassword' });
        }
        throw err;
      }
      setDone(true);
      router.refresh();
    },
    [router],
  );
  const form = useForm(action, { password: 'newPassword' });
  return (
    <div className="c-stack">
      {done ? <Alert tone="success">{t('account.passwordChanged')}</Alert> : null}
      <Form controller={form} aria-label={t('account.changePassword')}>
        <TextField
          name="currentPassword"
          label={t('field.currentPassword')}
          type="password"
          autoComplete="current-password"
          required
          {...form.fieldState('currentPassword')}
        />
        <NewPasswordField form={form} name="newPassword" label={t('field.newPassword')} />
        <div>
          <Button type="submit" pending={form.pending}>
            {t('account.changePassword')}
          </Button>
        </div>
      </Form>
    </div>
  );
}

export function LogOutButton() {
  const { pending, error, run } = useAction();
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <Button
        variant="secondary"
        pending={pending}
        onClick={() =>
          run(async () => {
            try {
              await browserClient.request(LogOutDocument);
            } catch (err) {
              // Already logged out (the session was revoked elsewhere): carry on to the login page.
              if (!(err instanceof ClientError && err.code === 'UNAUTHENTICATED')) throw err;
            }
            window.location.assign('/login?loggedOut=1');
            return 'navigating';
          })
        }
      >
        {t('account.logOut')}
      </Button>
    </div>
  );
}
