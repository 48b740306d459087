'use client';
/** Building blocks the settings sections share: a dialog holding a form, and result announcements. */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { t } from '@/i18n';
import { Button, Dialog, Form, useForm, type ButtonVariant, type FormAction, type FormController } from '@/ui';

export interface ActionDialogProps {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: ReactNode;
  submitLabel: string;
  /** The button that closes without doing anything (default "Cancel"; "Keep subscription" where Cancel would confuse). */
  cancelLabel?: string;
  variant?: ButtonVariant;
  /** Runs on submit; throw to show the API's error on its field (or above the form). */
  action: FormAction;
  /** The server's field names mapped to this form's inputs. */
  fieldMap?: Record<string, string>;
  children?: (form: FormController) => ReactNode;
  fallbackFocus?: React.RefObject<HTMLElement | null>;
}

/** A confirmation or small form in a modal dialog: submit and cancel, busy while the request runs. */
export function ActionDialog(props: ActionDialogProps) {
  const { open, onClose, title, description, fallbackFocus } = props;
  // While a request runs the dialog stays open (Escape and the backdrop wait), so the outcome is not lost.
  const busy = useRef(false);
  const close = useCallback(() => {
    if (!busy.current) onClose();
  }, [onClose]);
  return (
    <Dialog open={open} onClose={close} title={title} description={description} fallbackFocus={fallbackFocus}>
      <ActionDialogForm {...props} onClose={close} busy={busy} />
    </Dialog>
  );
}

/** Mounted only while the dialog is open, so every opening starts with a clean form. */
function ActionDialogForm({ title, submitLabel, cancelLabel, variant = 'primary', action, fieldMap, children, onClose, busy }: ActionDialogProps & { busy: React.RefObject<boolean> }) {
  const run = useCallback<FormAction>(
    async (values) => {
      busy.current = true;
      try {
        return await action(values);
      } finally {
        busy.current = false;
      }
    },
    [action, busy],
  );
  const form = useForm(run, fieldMap);
  return (
    <Form controller={form} aria-label={title}>
      {children?.(form)}
      <div className="c-actions">
        <Button type="submit" variant={variant} pending={form.pending}>
          {submitLabel}
        </Button>
        <Button variant="secondary" onClick={onClose} disabled={form.pending}>
          {cancelLabel ?? t('common.cancel')}
        </Button>
      </div>
    </Form>
  );
}

/** Which dialog of a list is open (by row id), with a tidy open/close pair. */
export function useDialog<T extends string = string>() {
  const [openId, setOpenId] = useState<T | null>(null);
  const close = useCallback(() => setOpenId(null), []);
  return { openId, open: setOpenId, close, isOpen: (id: T) => openId === id };
}

/** "Octavia Butler (@octavia)" */
export function personLabel(user: { displayName: string; handle: string }): string {
  return t('common.person', { name: user.displayName, handle: user.handle });
}

/**
 * When fresh server data removes the row whose button had focus (a role deleted, a member banned), focus would
 * fall to the top of the page; put it on `ref` (the list, where the outcome shows) instead.
 */
export function useFocusRescue(ref: React.RefObject<HTMLElement | null>, data: unknown) {
  const first = useRef(true);
  useEffect(() => {
    // Not on the first render: a page that has just loaded keeps focus where the browser put it.
    if (first.current) {
      first.current = false;
      return;
    }
    if (!document.activeElement || document.activeElement === document.body) ref.current?.focus();
  }, [ref, data]);
}
