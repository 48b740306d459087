'use client';
/**
 * The composer's poll: a question, 2 to 10 options (added and removed in place, focus following), single or
 * multiple choice, and an optional closing time. Its inputs are named after the API's fields (`poll.question`,
 * `poll.options.<n>`, `poll.closesAt`), so an error the server reports on one lands on that input.
 */
import { useEffect, useRef, useState } from 'react';
import { t } from '@/i18n';
import { Button, RadioGroup, TextField, type FormController } from '@/ui';

export const POLL_MIN_OPTIONS = 2;
export const POLL_MAX_OPTIONS = 10;

let counter = 0;
const option = () => ({ key: `option-${++counter}`, value: '' });

export function PollBuilder({ form }: { form: FormController }) {
  const [options, setOptions] = useState(() => [option(), option()]);
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const addRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!focusKey) return;
    const target = focusKey === 'add' ? addRef.current : listRef.current?.querySelector<HTMLInputElement>(`li[data-key="${focusKey}"] input`);
    target?.focus();
    setFocusKey(null);
  }, [focusKey]);

  const add = () => {
    const next = option();
    setOptions((all) => [...all, next]);
    setFocusKey(next.key);
  };
  const remove = (index: number) => {
    const rest = options.filter((_, i) => i !== index);
    setOptions(rest);
    // Focus the option that took its place (or the one before it); never the top of the page.
    setFocusKey(rest[Math.min(index, rest.length - 1)]?.key ?? 'add');
  };

  return (
    <fieldset className="c-fieldset c-poll-builder" data-testid="poll-builder">
      <legend className="c-field__label">{t('pollBuilder.legend')}</legend>
      <div className="c-stack">
        <TextField name="poll.question" label={t('pollBuilder.question')} maxLength={300} {...form.fieldState('poll.question')} />
        <ol ref={listRef} className="c-poll-builder__options" aria-label={t('pollBuilder.options')}>
          {options.map((o, i) => (
            <li key={o.key} data-key={o.key} className="c-poll-builder__option">
              <TextField
                name={`poll.options.${i}`}
                label={t('pollBuilder.option', { number: i + 1 })}
                required
                maxLength={100}
                value={o.value}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  setOptions((all) => all.map((x) => (x.key === o.key ? { ...x, value } : x)));
                }}
                {...form.fieldState(`poll.options.${i}`)}
              />
              {options.length > POLL_MIN_OPTIONS ? (
                <Button variant="quiet" aria-label={t('pollBuilder.removeOption', { number: i + 1 })} onClick={() => remove(i)}>
                  {t('pollBuilder.remove')}
                </Button>
              ) : null}
            </li>
          ))}
        </ol>
        {options.length < POLL_MAX_OPTIONS ? (
          <div>
            <Button ref={addRef} variant="secondary" onClick={add}>
              {t('pollBuilder.addOption')}
            </Button>
          </div>
        ) : (
          <p className="c-muted c-small">{t('pollBuilder.maxOptions', { max: POLL_MAX_OPTIONS })}</p>
        )}
        <RadioGroup
          name="poll.choice"
          legend={t('pollBuilder.choice')}
          defaultValue="single"
          options={[
            { value: 'single', label: t('pollBuilder.single') },
            { value: 'multiple', label: t('pollBuilder.multiple') },
          ]}
        />
        <TextField name="poll.closesAt" type="datetime-local" label={t('pollBuilder.closesAt')} description={t('pollBuilder.closesAtHint')} {...form.fieldState('poll.closesAt')} />
      </div>
    </fieldset>
  );
}
