'use client';
import { useId, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from 'react';
import { t } from '@/i18n';

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'children'> {
  name: string;
  label: string;
  /** Help shown under the label, linked with aria-describedby. */
  description?: ReactNode;
  /** Shown under the field, linked with aria-describedby, and marks the field aria-invalid. */
  error?: string | undefined;
  /** Marks the field aria-invalid without an error of its own (a form-level error concerns it). */
  invalid?: boolean;
  /** Ids of further descriptions (a form-level error about this field). */
  describedBy?: string | undefined;
}

export function TextField({ label, description, error, invalid = false, describedBy: extraDescribedBy, required, type = 'text', className, ...input }: TextFieldProps) {
  const id = useId();
  const descriptionId = description ? `${id}-description` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [descriptionId, errorId, extraDescribedBy].filter(Boolean).join(' ') || undefined;
  return (
    <div className={['c-field', error || invalid ? 'c-field--invalid' : '', className].filter(Boolean).join(' ')}>
      <label htmlFor={id} className="c-field__label">
        {label}
        {required ? null : <span className="c-field__optional"> ({t('common.optional')})</span>}
      </label>
      {description ? (
        <p id={descriptionId} className="c-field__description">
          {description}
        </p>
      ) : null}
      <input
        {...input}
        id={id}
        type={type}
        required={required}
        aria-required={required || undefined}
        aria-invalid={error || invalid ? true : undefined}
        aria-describedby={describedBy}
        className="c-field__input"
      />
      {error ? (
        <p id={errorId} className="c-field__error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'children'> {
  name: string;
  label: string;
  description?: ReactNode;
  error?: string | undefined;
  invalid?: boolean;
  describedBy?: string | undefined;
}

/** A multi-line TextField: same label, help and error wiring. */
export function TextAreaField({ label, description, error, invalid = false, describedBy: extraDescribedBy, required, rows = 4, className, ...input }: TextAreaFieldProps) {
  const id = useId();
  const descriptionId = description ? `${id}-description` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [descriptionId, errorId, extraDescribedBy].filter(Boolean).join(' ') || undefined;
  return (
    <div className={['c-field', error || invalid ? 'c-field--invalid' : '', className].filter(Boolean).join(' ')}>
      <label htmlFor={id} className="c-field__label">
        {label}
        {required ? null : <span className="c-field__optional"> ({t('common.optional')})</span>}
      </label>
      {description ? (
        <p id={descriptionId} className="c-field__description">
          {description}
        </p>
      ) : null}
      <textarea
        {...input}
        id={id}
        rows={rows}
        required={required}
        aria-required={required || undefined}
        aria-invalid={error || invalid ? true : undefined}
        aria-describedby={describedBy}
        className="c-field__input c-field__input--multiline"
      />
      {error ? (
        <p id={errorId} className="c-field__error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
