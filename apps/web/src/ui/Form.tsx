'use client';
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { t } from '@/i18n';
import { describeError } from '@/lib/errors';
import { Alert } from './Alert';

export type FormValues = Record<string, string>;
/** Return 'navigating' when the action has started a page load, so the form stays busy until it happens. */
export type FormAction = (values: FormValues) => Promise<void | 'navigating'>;

export interface FormController {
  pending: boolean;
  formError: string | undefined;
  /** The id of the form-level error message, so the fields it concerns can point at it. */
  formErrorId: string;
  fieldErrors: Record<string, string>;
  /** The error props for one input: `<TextField name="email" {...form.fieldState('email')} />`. */
  fieldState(name: string): FieldState;
  onSubmit(event: FormEvent<HTMLFormElement>): void;
  onInput(event: FormEvent<HTMLFormElement>): void;
  formRef: React.RefObject<HTMLFormElement | null>;
}

export interface FieldState {
  error: string | undefined;
  invalid: boolean;
  describedBy: string | undefined;
}

/**
 * Submission state for a form: required-field checks, one request at a time, and API errors placed on the field
 * they concern (which then gets focus) or shown above the form. An error above the form that concerns particular
 * inputs (wrong credentials) marks them invalid, describes them and focuses the first, so a keyboard or screen
 * reader user lands where the fix is.
 *
 * @param fieldMap the server's field names mapped to this form's input names, where they differ.
 */
export function useForm(action: FormAction, fieldMap: Record<string, string> = {}): FormController {
  const [pending, setPending] = useState(false);
  const [formError, setFormError] = useState<string>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  /** Inputs the form-level error concerns (a wrong email and password pair): marked invalid until edited. */
  const [formErrorFields, setFormErrorFields] = useState<string[]>([]);
  const formErrorId = `${useId()}-form-error`;
  const [focusField, setFocusField] = useState<{ name: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const busy = useRef(false);

  useEffect(() => {
    if (!focusField) return;
    const el = formRef.current?.elements.namedItem(focusField.name);
    if (el instanceof HTMLElement) el.focus();
  }, [focusField]);

  const onSubmit = useCallback(
    (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      if (busy.current) return;
      const form = event.currentTarget;
      const values: FormValues = {};
      const missing: Record<string, string> = {};
      for (const el of Array.from(form.elements)) {
        if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) || !el.name || el.disabled) continue;
        // A radio group's value is its checked option's; an unchecked box contributes nothing.
        if (el instanceof HTMLInputElement && (el.type === 'radio' || el.type === 'checkbox') && !el.checked) continue;
        values[el.name] = el.value;
        if (el.required && el.value.trim() === '') missing[el.name] = t('errors.required');
      }
      const firstMissing = Object.keys(missing)[0];
      if (firstMissing) {
        setFieldErrors(missing);
        setFormError(undefined);
        setFormErrorFields([]);
        setFocusField({ name: firstMissing });
        return;
      }
      busy.current = true;
      setPending(true);
      setFormError(undefined);
      setFieldErrors({});
      setFormErrorFields([]);
      action(values).then(
        (outcome) => {
          if (outcome === 'navigating') return;
          busy.current = false;
          setPending(false);
        },
        (err: unknown) => {
          busy.current = false;
          setPending(false);
          const { message, field, concerns = [] } = describeError(err, fieldMap);
          if (field && form.elements.namedItem(field)) {
            setFieldErrors({ [field]: message });
            setFocusField({ name: field });
          } else {
            setFormError(message);
            const present = concerns.filter((name) => form.elements.namedItem(name));
            setFormErrorFields(present);
            if (present[0]) setFocusField({ name: present[0] });
          }
        },
      );
    },
    [action, fieldMap],
  );

  const onInput = useCallback((event: FormEvent<HTMLFormElement>) => {
    const name = (event.target as HTMLInputElement).name;
    if (!name) return;
    setFieldErrors((prev) => {
      if (!(name in prev)) return prev;
      const { [name]: _, ...rest } = prev;
      return rest;
    });
    setFormErrorFields((prev) => (prev.includes(name) ? prev.filter((n) => n !== name) : prev));
  }, []);

  const fieldState = useCallback(
    (name: string): FieldState => {
      const concerned = formError !== undefined && formErrorFields.includes(name);
      return { error: fieldErrors[name], invalid: concerned || name in fieldErrors, describedBy: concerned ? formErrorId : undefined };
    },
    [fieldErrors, formError, formErrorFields, formErrorId],
  );

  return { pending, formError, formErrorId, fieldErrors, fieldState, onSubmit, onInput, formRef };
}

/** A form wired to `useForm`: busy while submitting, with its error summary on top. */
export function Form({ controller, children, className, 'aria-label': ariaLabel }: { controller: FormController; children: ReactNode; className?: string; 'aria-label'?: string }) {
  return (
    <form
      ref={controller.formRef}
      // Before the page's scripts load a submit would be a browser GET, putting the password in the URL (history,
      // logs). POST keeps fields in the body; once hydrated, onSubmit handles everything.
      method="post"
      noValidate
      onSubmit={controller.onSubmit}
      onInput={controller.onInput}
      aria-busy={controller.pending}
      aria-label={ariaLabel}
      className={['c-form', className].filter(Boolean).join(' ')}
    >
      {controller.formError ? (
        <Alert tone="error" id={controller.formErrorId}>
          {controller.formError}
        </Alert>
      ) : null}
      {children}
    </form>
  );
}
