'use client';
/**
 * A Markdown text area with Write and Preview: two toggle buttons switch between the text and how it will look.
 * The text area stays in the form while previewing (hidden), so submitting from either mode sends the text; an
 * error on the field switches back to Write so the field can take focus.
 */
import { useEffect, useId, useMemo, useState } from 'react';
import { t } from '@/i18n';
import { renderPreview } from '@/lib/markdown-preview';
import { TextAreaField, type FieldState } from '@/ui';

export interface MarkdownFieldProps extends Partial<FieldState> {
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  rows?: number;
  maxLength?: number;
  required?: boolean;
  autoFocus?: boolean;
}

export function MarkdownField({ name, label, value, onChange, rows = 6, maxLength, required, autoFocus, error, invalid, describedBy }: MarkdownFieldProps) {
  const [mode, setMode] = useState<'write' | 'preview'>('write');
  const id = useId();
  useEffect(() => {
    if (error) setMode('write');
  }, [error]);
  const html = useMemo(() => (mode === 'preview' ? renderPreview(value) : ''), [mode, value]);

  return (
    <div className="c-markdown-field">
      <div role="group" aria-label={t('markdown.mode', { label })} className="c-markdown-field__modes">
        <button type="button" className="c-tab-button" aria-pressed={mode === 'write'} onClick={() => setMode('write')}>
          {t('markdown.write')}
        </button>
        <button type="button" className="c-tab-button" aria-pressed={mode === 'preview'} aria-controls={mode === 'preview' ? `${id}-preview` : undefined} onClick={() => setMode('preview')}>
          {t('markdown.preview')}
        </button>
      </div>
      <div hidden={mode !== 'write'}>
        <TextAreaField
          name={name}
          label={label}
          description={t('markdown.hint')}
          rows={rows}
          maxLength={maxLength}
          required={required}
          autoFocus={autoFocus}
          value={value}
          onChange={(e) => onChange(e.currentTarget.value)}
          error={error}
          invalid={invalid}
          describedBy={describedBy}
        />
      </div>
      {mode === 'preview' ? (
        <section id={`${id}-preview`} className="c-markdown-field__preview" aria-label={t('markdown.previewOf', { label })} data-testid="markdown-preview">
          {html ? (
            // Safe to insert: markdown-it with raw HTML off, then an allowlist (lib/markdown-preview.ts).
            <div className="c-post-body" dangerouslySetInnerHTML={{ __html: html }} />
          ) : (
            <p className="c-empty">{t('markdown.nothing')}</p>
          )}
        </section>
      ) : null}
    </div>
  );
}
