'use client';
/**
 * Files attached to a post being written or edited: chosen with a button or dropped onto the field, each checked
 * against the size limit before anything is sent, uploaded at once with its own progress bar, and removable before
 * posting (which also stops a transfer in progress). Progress is announced by quarters in one polite live region;
 * a file's failure is announced as an alert and shown beside it.
 */
import { useCallback, useEffect, useId, useRef, useState, type DragEvent } from 'react';
import { isClientError, type AttachmentFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { describeError } from '@/lib/errors';
import { formatBytes } from '@/lib/images';
import type { FileLimitsView } from '@/lib/media';
import { MAX_ATTACHMENTS } from '@/lib/posts';
import { uploadFile } from '@/lib/upload';
import { Button } from '@/ui';

export interface AttachmentItem {
  key: string;
  name: string;
  bytes: number;
  status: 'uploading' | 'processing' | 'done' | 'failed';
  percent: number;
  /** The stored file's id once uploaded (or an existing attachment's). */
  id?: string;
  /** A thumbnail to show: the upload's previewUrl, or an existing image's thumbUrl. */
  previewUrl?: string | null;
  error?: string;
  abort?: () => void;
}

export interface AttachmentsController {
  items: AttachmentItem[];
  add(files: File[]): void;
  remove(key: string): void;
  /** Ids in display order, of every file that finished uploading. */
  ids(): string[];
  busy: boolean;
  status: string;
  /** A problem with the selection as a whole (too many files). */
  error: string | undefined;
}

let counter = 0;

/** The attachments of one composer. `existing` are a post's current attachments when editing. */
export function useAttachments(limits: FileLimitsView | null, existing: AttachmentFieldsFragment[] = []): AttachmentsController {
  const [items, setItems] = useState<AttachmentItem[]>(() =>
    existing.map((a) => ({ key: a.id, id: a.id, name: a.name, bytes: a.bytes, status: 'done', percent: 100, previewUrl: a.thumbUrl })),
  );
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string>();
  const itemsRef = useRef(items);
  itemsRef.current = items;
  useEffect(() => () => itemsRef.current.forEach((i) => i.abort?.()), []);

  const update = (key: string, patch: Partial<AttachmentItem>) => setItems((all) => all.map((i) => (i.key === key ? { ...i, ...patch } : i)));

  const add = useCallback(
    (files: File[]) => {
      if (!limits) return;
      setError(undefined);
      const room = MAX_ATTACHMENTS - itemsRef.current.filter((i) => i.status !== 'failed').length;
      if (files.length > room) setError(t('attachments.tooMany', { max: MAX_ATTACHMENTS }));
      for (const file of files.slice(0, Math.max(0, room))) {
        const key = `upload-${++counter}`;
        const base: AttachmentItem = { key, name: file.name, bytes: file.size, status: 'uploading', percent: 0 };
        if (file.size === 0) {
          setItems((all) => [...all, { ...base, status: 'failed', error: t('attachments.empty') }]);
          setStatus(t('attachments.failed', { name: file.name, reason: t('attachments.empty') }));
          continue;
        }
        if (file.size > limits.maxFileBytes) {
          const reason = t('attachments.tooLarge', { size: formatBytes(file.size), max: formatBytes(limits.maxFileBytes) });
          setItems((all) => [...all, { ...base, status: 'failed', error: reason }]);
          setStatus(t('attachments.failed', { name: file.name, reason }));
          continue;
        }
        let lastQuarter = 0;
        const handle = uploadFile(limits.fileUploadPath, file, (fraction) => {
          const percent = Math.min(100, Math.round(fraction * 100));
          // Every byte is sent; the server may still be re-encoding an image.
          if (percent >= 100) {
            update(key, { status: 'processing', percent: 100 });
            return;
          }
          update(key, { percent });
          const quarter = Math.floor(percent / 25);
          if (quarter > lastQuarter) {
            lastQuarter = quarter;
            setStatus(t('attachments.progress', { name: file.name, percent: quarter * 25 }));
          }
        });
        setItems((all) => [...all, { ...base, abort: handle.abort }]);
        setStatus(t('attachments.started', { name: file.name }));
        handle.done.then(
          (uploaded) => {
            update(key, { status: 'done', percent: 100, id: uploaded.id, name: uploaded.name, bytes: uploaded.bytes, previewUrl: uploaded.previewUrl, abort: undefined });
            setStatus(t('attachments.uploaded', { name: uploaded.name }));
          },
          (err: unknown) => {
            // A removed file was aborted on purpose: it is already gone from the list.
            if (isClientError(err, 'ABORTED')) return;
            const reason = describeError(err).message;
            update(key, { status: 'failed', error: reason, abort: undefined });
            setStatus(t('attachments.failed', { name: file.name, reason }));
          },
        );
      }
    },
    [limits],
  );

  const remove = useCallback((key: string) => {
    const item = itemsRef.current.find((i) => i.key === key);
    item?.abort?.();
    setItems((all) => all.filter((i) => i.key !== key));
    if (item) setStatus(t('attachments.removed', { name: item.name }));
  }, []);

  return {
    items,
    add,
    remove,
    ids: () => itemsRef.current.filter((i) => i.status === 'done' && i.id).map((i) => i.id!),
    busy: items.some((i) => i.status === 'uploading' || i.status === 'processing'),
    status,
    error,
  };
}

const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes('Files');

export function AttachmentPicker({ controller, limits }: { controller: AttachmentsController; limits: FileLimitsView | null }) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const [dragging, setDragging] = useState(false);
  const { items, add, remove, status, error } = controller;

  const onDragOver = (event: DragEvent<HTMLFieldSetElement>) => {
    if (!hasFiles(event)) return;
    // Always claim a dragged file, so a drop does not make the browser open it instead of the page.
    event.preventDefault();
    event.dataTransfer.dropEffect = limits ? 'copy' : 'none';
    if (limits) setDragging(true);
  };
  const onDragLeave = (event: DragEvent<HTMLFieldSetElement>) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
  };
  const onDrop = (event: DragEvent<HTMLFieldSetElement>) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    setDragging(false);
    add(Array.from(event.dataTransfer.files));
  };

  /** After a removal focus goes to the next file's Remove button, or to the Add button: never to the page's top. */
  const removeAt = (index: number, key: string) => {
    remove(key);
    requestAnimationFrame(() => {
      const buttons = listRef.current?.querySelectorAll<HTMLButtonElement>('button[data-remove]');
      const next = buttons?.[Math.min(index, (buttons?.length ?? 1) - 1)];
      (next ?? addRef.current)?.focus();
    });
  };

  return (
    <fieldset
      className={['c-fieldset', 'c-attachments', dragging ? 'c-attachments--dragging' : ''].filter(Boolean).join(' ')}
      data-testid="attachments"
      onDragEnter={onDragOver}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      <legend className="c-field__label">
        {t('attachments.legend')} <span className="c-field__optional">({t('common.optional')})</span>
      </legend>
      <p id={`${id}-hint`} className="c-field__description">
        {limits ? t('attachments.hint', { max: formatBytes(limits.maxFileBytes), count: MAX_ATTACHMENTS }) : t('attachments.unavailable')}
      </p>
      {items.length ? (
        <ul ref={listRef} className="c-attachments__list" aria-label={t('attachments.listLabel')}>
          {items.map((item, index) => (
            <li key={item.key} className="c-attachment-item" data-testid="attachment-item" data-status={item.status}>
              {item.previewUrl ? (
                // The file's name is beside it, so the thumbnail is decorative.
                <img src={item.previewUrl} alt="" width={64} height={64} className="c-attachment-item__thumb" />
              ) : (
                <span className="c-attachment-item__thumb c-attachment-item__thumb--file" aria-hidden="true">
                  📄
                </span>
              )}
              <div className="c-attachment-item__main">
                <span className="c-attachment-item__name">{item.name}</span>
                <span className="c-muted c-small">
                  {formatBytes(item.bytes)}
                  {item.status === 'uploading' ? ` · ${t('attachments.percent', { percent: item.percent })}` : null}
                  {item.status === 'processing' ? ` · ${t('attachments.processing')}` : null}
                  {item.status === 'done' ? ` · ${t('attachments.ready')}` : null}
                </span>
                {item.status === 'uploading' || item.status === 'processing' ? (
                  <progress max={100} value={item.status === 'uploading' ? item.percent : undefined} aria-label={t('attachments.progressLabel', { name: item.name })} />
                ) : null}
                {item.error ? <p className="c-field__error">{item.error}</p> : null}
              </div>
              <Button variant="quiet" data-remove="" aria-label={t('attachments.remove', { name: item.name })} onClick={() => removeAt(index, item.key)}>
                {t('attachments.removeShort')}
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
      {/* Always mounted, so each change of its text is announced. */}
      <p role="status" className="c-visually-hidden">
        {status}
      </p>
      <div role="alert">{error ? <p className="c-field__error">{error}</p> : null}</div>
      {limits ? (
        <div className="c-actions">
          <Button ref={addRef} variant="secondary" aria-describedby={`${id}-hint`} onClick={() => inputRef.current?.click()}>
            {t('attachments.add')}
          </Button>
        </div>
      ) : null}
      {/* The picker itself; the button above opens it, and it is kept out of the tab order and the accessibility tree. */}
      <input
        ref={inputRef}
        type="file"
        multiple
        hidden
        tabIndex={-1}
        onChange={(event) => {
          const files = Array.from(event.currentTarget.files ?? []);
          // Cleared, so choosing the same file again (after removing it) is noticed.
          event.currentTarget.value = '';
          add(files);
        }}
      />
    </fieldset>
  );
}
