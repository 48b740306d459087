'use client';
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { t } from '@/i18n';

interface FieldProps {
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

export interface TextFieldProps extends FieldProps, Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'children' | 'name'> {}
export interface TextAreaFieldProps extends FieldProps, Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'children' | 'name'> {}
export interface SelectFieldProps extends FieldProps, Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id' | 'children' | 'name'> {
  options: { value: string; label: string }[];
}

/** The ARIA wiring every control gets: its id, what describes it, whether it is invalid and required. */
interface ControlProps {
  id: string;
  'aria-describedby': string | undefined;
  'aria-invalid': true | undefined;
  'aria-required': true | undefined;
}

/** Label, help, error and their wiring, shared by every kind of field. */
function Field({ label, description, error, invalid, describedBy, required, className, children }: Omit<FieldProps, 'name'> & { required?: boolean; className?: string; children: (control: ControlProps) => ReactNode }) {
  const id = useId();
  const descriptionId = description ? `${id}-description` : undefined;
  const errorId = error ? `${id}-error` : undefined;
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
      {children({
        id,
        'aria-describedby': [descriptionId, errorId, describedBy].filter(Boolean).join(' ') || undefined,
        'aria-invalid': error || invalid ? true : undefined,
        'aria-required': required || undefined,
      })}
      {error ? (
        <p id={errorId} className="c-field__error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function TextField({ label, description, error, invalid = false, describedBy, required, type = 'text', className, ...input }: TextFieldProps) {
  return (
    <Field {...{ label, description, error, invalid, describedBy, required, className }}>
      {(control) => <input {...input} {...control} type={type} required={required} className="c-field__input" />}
    </Field>
  );
}

/** A multi-line TextField: same label, help and error wiring. */
export function TextAreaField({ label, description, error, invalid = false, describedBy, required, rows = 4, className, ...input }: TextAreaFieldProps) {
  return (
    <Field {...{ label, description, error, invalid, describedBy, required, className }}>
      {(control) => <textarea {...input} {...control} rows={rows} required={required} className="c-field__input c-field__input--multiline" />}
    </Field>
  );
}

/** A native select with the same label, help and error wiring (choices that fit in a list: durations, roles). */
export function SelectField({ label, description, error, invalid = false, describedBy, required, className, options, ...select }: SelectFieldProps) {
  return (
    <Field {...{ label, description, error, invalid, describedBy, required, className }}>
      {(control) => (
        <select {...select} {...control} required={required} className="c-field__input c-field__select">
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * One checkbox with its label and, optionally, a line of help under it. `error` shows under it, linked with
 * aria-describedby, and marks it aria-invalid (a box that must be ticked, like accepting terms).
 */
export function Checkbox({ label, description, error, className, ...input }: Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'id'> & { label: string; description?: ReactNode; error?: string | undefined }) {
  const id = useId();
  const hintId = description ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className={['c-check', error ? 'c-field--invalid' : '', className].filter(Boolean).join(' ')}>
      <input {...input} type="checkbox" id={id} aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined} aria-invalid={error ? true : undefined} />
      <label htmlFor={id}>
        <span className="c-check__label">{label}</span>
        {description ? (
          <span id={hintId} className="c-field__description">
            {description}
          </span>
        ) : null}
      </label>
      {error ? (
        <p id={errorId} className="c-field__error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
