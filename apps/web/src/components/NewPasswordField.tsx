'use client';
import { t } from '@/i18n';
import { type FormController, TextField } from '@/ui';

/** The one way to ask for a new password (sign-up, reset, change): same hint, same autofill behaviour. */
export function NewPasswordField({ form, name, label }: { form: FormController; name: string; label: string }) {
  return <TextField name={name} label={label} type="password" autoComplete="new-password" required description={t('signup.passwordHint')} {...form.fieldState(name)} />;
}
