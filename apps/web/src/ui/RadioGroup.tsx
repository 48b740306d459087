'use client';
import { useId, type ReactNode } from 'react';

export interface RadioOption {
  value: string;
  label: string;
  description?: ReactNode;
}

/**
 * One choice among a few, shown all at once: a fieldset whose legend names the group, each option with its own
 * explanation. Arrow keys move between options (native radio behaviour).
 */
export function RadioGroup({ name, legend, options, defaultValue, value, onChange, error }: {
  name: string;
  legend: string;
  options: RadioOption[];
  defaultValue?: string;
  /** Controlled use: the checked option, with `onChange`. */
  value?: string;
  onChange?: (value: string) => void;
  error?: string | undefined;
}) {
  const id = useId();
  const errorId = error ? `${id}-error` : undefined;
  return (
    <fieldset className={['c-field', 'c-radio-group', error ? 'c-field--invalid' : ''].filter(Boolean).join(' ')} aria-describedby={errorId}>
      <legend className="c-field__label">{legend}</legend>
      {options.map((option) => {
        const optionId = `${id}-${option.value}`;
        const hintId = option.description ? `${optionId}-hint` : undefined;
        return (
          <div key={option.value} className="c-radio">
            <input
              type="radio"
              id={optionId}
              name={name}
              value={option.value}
              aria-describedby={hintId}
              {...(value !== undefined ? { checked: value === option.value, onChange: () => onChange?.(option.value) } : { defaultChecked: defaultValue === option.value })}
            />
            <label htmlFor={optionId}>
              <span className="c-radio__label">{option.label}</span>
              {option.description ? (
                <span id={hintId} className="c-field__description c-radio__hint">
                  {option.description}
                </span>
              ) : null}
            </label>
          </div>
        );
      })}
      {error ? (
        <p id={errorId} className="c-field__error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
