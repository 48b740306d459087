'use client';
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { t } from '@/i18n';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export interface DialogProps {
  open: boolean;
  /** Called when the dialog asks to close: Escape, the close button, a click on the backdrop. */
  onClose: () => void;
  title: string;
  /** Help under the title, linked as the dialog's description. */
  description?: ReactNode;
  children: ReactNode;
  /**
   * Where focus goes on closing when the control that opened the dialog is gone (the row it sat in was removed):
   * a list or section that shows the outcome.
   */
  fallbackFocus?: React.RefObject<HTMLElement | null>;
}

/**
 * The one modal dialog: a native <dialog> opened with showModal(), so the page behind is inert and Escape
 * closes it. On top of what the browser gives: Tab and Shift+Tab cycle inside the dialog (never out to the page
 * or the browser's chrome), the first field (or the close button) gets focus on opening, and focus returns to the
 * control that opened it on closing.
 */
export function Dialog({ open, onClose, title, description, children, fallbackFocus }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const id = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
      const first = dialog.querySelector<HTMLElement>(`.c-dialog__body :is(${FOCUSABLE})`) ?? dialog.querySelector<HTMLElement>(FOCUSABLE);
      first?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
    if (!open && opener.current) {
      const back = opener.current;
      opener.current = null;
      if (back.isConnected) back.focus();
      else fallbackFocus?.current?.focus();
    }
  }, [open, fallbackFocus]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // Escape: the browser fires "cancel"; the parent decides (it may keep the dialog open while busy).
    const onCancel = (event: Event) => {
      event.preventDefault();
      onCloseRef.current();
    };
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Tab') return;
      const items = Array.from(dialog.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
      if (items.length === 0) return;
      const first = items[0]!;
      const last = items[items.length - 1]!;
      if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
        event.preventDefault();
        first.focus();
      }
    };
    // A press on the backdrop lands on the <dialog> element itself (its content box is the panel inside).
    const onClick = (event: MouseEvent) => {
      if (event.target === dialog) onCloseRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    dialog.addEventListener('keydown', onKeyDown);
    dialog.addEventListener('click', onClick);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      dialog.removeEventListener('keydown', onKeyDown);
      dialog.removeEventListener('click', onClick);
    };
  }, []);

  return (
    <dialog ref={ref} className="c-dialog" aria-labelledby={`${id}-title`} aria-describedby={description ? `${id}-description` : undefined}>
      {/* Rendered only while open, so closed dialogs add nothing to the page (no duplicate forms or field ids). */}
      {open ? (
        <div className="c-dialog__panel">
          <div className="c-dialog__head">
            <h2 id={`${id}-title`} className="c-dialog__title">
              {title}
            </h2>
            <button type="button" className="c-button c-button--quiet c-dialog__close" onClick={() => onCloseRef.current()} aria-label={t('common.close')}>
              <span aria-hidden="true">×</span>
            </button>
          </div>
          {description ? (
            <div id={`${id}-description`} className="c-dialog__description">
              {description}
            </div>
          ) : null}
          <div className="c-dialog__body">{children}</div>
        </div>
      ) : null}
    </dialog>
  );
}
