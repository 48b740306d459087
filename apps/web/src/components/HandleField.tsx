'use client';
import { t } from '@/i18n';
import { type FormController, TextField } from '@/ui';

/** The one way to ask for a handle (sign-up, profile): no autocapitalising or spell-checking, offered as the username. */
export function HandleField({ form, description, defaultValue }: { form: FormController; description: string; defaultValue?: string }) {
  return (
    <TextField
      name="handle"
      label={t('field.handle')}
      autoComplete="username"
      autoCapitalize="none"
      spellCheck={false}
      required
      defaultValue={defaultValue}
      description={description}
      {...form.fieldState('handle')}
    />
  );
}
