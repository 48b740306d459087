import type { ButtonHTMLAttributes, Ref } from 'react';
import { Spinner } from './Spinner';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'quiet';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  /**
   * While true the button is busy, ignores presses and shows a spinner; its accessible name does not change. It
   * stays focusable (aria-disabled, not disabled): a disabled button drops keyboard focus to the top of the page.
   */
  pending?: boolean;
  ref?: Ref<HTMLButtonElement>;
}

export function Button({ variant = 'primary', pending = false, disabled, className, children, type = 'button', onClick, ...rest }: ButtonProps) {
  return (
    <button
      {...rest}
      type={type}
      className={['c-button', `c-button--${variant}`, className].filter(Boolean).join(' ')}
      disabled={disabled}
      aria-disabled={pending || undefined}
      aria-busy={pending || undefined}
      // preventDefault also stops a pending submit button from submitting its form again.
      onClick={pending ? (event) => event.preventDefault() : onClick}
    >
      {pending ? <Spinner /> : null}
      <span>{children}</span>
    </button>
  );
}
