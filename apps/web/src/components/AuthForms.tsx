'use client';
/** The signed-out forms: sign up, log in, forgot and reset password. Each talks to /graphql from the browser. */
import Link from 'next/link';
import { useCallback, useState } from 'react';
import { LogInDocument, RequestPasswordResetDocument, ResetPasswordDocument, SignUpDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { HandleField } from './HandleField';
import { NewPasswordField } from './NewPasswordField';
import { Alert, Button, Form, TextField, useForm, type FormValues } from '@/ui';

/** A full page load after signing in or out, so every server-rendered part sees the new session. */
function go(path: string): 'navigating' {
  window.location.assign(path);
  return 'navigating';
}

export function SignUpForm({ next = null }: { next?: string | null }) {
  const action = useCallback(
    async (v: FormValues) => {
      await browserClient.request(SignUpDocument, {
        input: { email: v.email ?? '', password: v.password ?? '', handle: v.handle ?? '', displayName: v.displayName ?? '' },
      });
      return go(next ?? '/account');
    },
    [next],
  );
  const form = useForm(action);
  return (
    <Form controller={form}>
      <TextField name="email" label={t('field.email')} type="email" autoComplete="email" inputMode="email" required {...form.fieldState('email')} />
      <HandleField form={form} description={t('signup.handleHint')} />
      <TextField name="displayName" label={t('field.displayName')} autoComplete="name" required {...form.fieldState('displayName')} />
      <NewPasswordField form={form} name="password" label={t('field.password')} />
      <Button type="submit" pending={form.pending} className="c-button--block">
        {t('signup.submit')}
      </Button>
    </Form>
  );
}

export function LogInForm({ next }: { next: string | null }) {
  const action = useCallback(
    async (v: FormValues) => {
      await browserClient.request(LogInDocument, { input: { email: v.email ?? '', password: v.password ?? '' } });
      return go(next ?? '/account');
    },
    [next],
  );
  const form = useForm(action);
  return (
    <Form controller={form}>
      <TextField name="email" label={t('field.email')} type="email" autoComplete="email" inputMode="email" required {...form.fieldState('email')} />
      <TextField name="password" label={t('field.password')} type="password" autoComplete="current-password" required {...form.fieldState('password')} />
      <Button type="submit" pending={form.pending} className="c-button--block">
        {t('login.submit')}
      </Button>
    </Form>
  );
}

export function ForgotPasswordForm() {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const action = useCallback(async (v: FormValues) => {
    const email = (v.email ?? '').trim();
    await browserClient.request(RequestPasswordResetDocument, { email });
    setSentTo(email);
  }, []);
  const form = useForm(action, { email: 'email' });
  if (sentTo !== null) {
    return (
      <div className="c-stack">
        <Alert tone="success">{t('forgot.sent', { email: sentTo })}</Alert>
        <p>
          <Link href="/login">{t('forgot.backToLogIn')}</Link>
        </p>
      </div>
    );
  }
  return (
    <Form controller={form}>
      <TextField name="email" label={t('field.email')} type="email" autoComplete="email" inputMode="email" required {...form.fieldState('email')} />
      <Button type="submit" pending={form.pending} className="c-button--block">
        {t('forgot.submit')}
      </Button>
    </Form>
  );
}

export function ResetPasswordForm({ token }: { token: string }) {
  const [done, setDone] = useState(false);
  const action = useCallback(
    async (v: FormValues) => {
      await browserClient.request(ResetPasswordDocument, { input: { token, newPassword: v.newPassword ?? '' } });
      setDone(true);
    },
    [token],
  );
  // The server names the password `password` (policy) or `newPassword` (input); both are this form's field.
  const form = useForm(action, { password: 'newPassword' });
  if (done) {
    return (
      <div className="c-stack">
        <Alert tone="success">{t('reset.success')}</Alert>
        <p>
          <Link href="/login" className="c-button c-button--primary">
            {t('reset.logIn')}
          </Link>
        </p>
      </div>
    );
  }
  return (
    <Form controller={form}>
      <NewPasswordField form={form} name="newPassword" label={t('field.newPassword')} />
      <Button type="submit" pending={form.pending} className="c-button--block">
        {t('reset.submit')}
      </Button>
      {form.formError ? (
        <p>
          <Link href="/forgot-password">{t('reset.requestNew')}</Link>
        </p>
      ) : null}
    </Form>
  );
}
