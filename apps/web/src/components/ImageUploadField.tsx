'use client';
/**
 * One image of something (a community's avatar or banner, a circle's picture): its current preview, a button to
 * choose a file (or a file dropped onto the field), a check of type and size before anything is sent, upload
 * progress, and removal. The change is saved as soon as the upload is attached; there is no separate Save.
 */
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useId, useRef, useState, type DragEvent, type ReactNode } from 'react';
import { isClientError } from '@circles/client';
import { t } from '@/i18n';
import { describeError } from '@/lib/errors';
import { formatBytes, IMAGE_SIZES, type ImagePurpose } from '@/lib/images';
import { uploadImage, type UploadHandle } from '@/lib/upload';
import { Button } from '@/ui';

export interface MediaLimitsView {
  maxUploadBytes: number;
  /** MIME types the server accepts (it checks the bytes; this check only saves a pointless upload). */
  imageTypes: string[];
  imageUploadPath: string;
}

export interface ImageUploadFieldProps {
  /** What the image is ("Avatar"): the group's name, and part of each button's name. */
  label: string;
  /** What it is for and how it is shown; the accepted types and size follow it. */
  description?: ReactNode;
  purpose: ImagePurpose;
  /** The main size's path, or null when there is none. */
  currentUrl: string | null;
  /** Alternative text for the preview ("Current avatar of Readers"). */
  previewAlt: string;
  limits: MediaLimitsView;
  /** Attaches an upload (the API mutation); throw to show the API's error on the field. */
  onUpload: (uploadId: string) => Promise<void>;
  /** Removes the image (the mutation with no upload). */
  onRemove: () => Promise<void>;
  /** Read-only (an archived community): the preview shows, nothing can change. */
  disabled?: boolean;
}

type Phase = { kind: 'idle' } | { kind: 'uploading'; percent: number } | { kind: 'saving' } | { kind: 'removing' };

const TYPE_NAMES: Record<string, string> = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/gif': 'GIF', 'image/webp': 'WebP' };

/**
 * "PNG, JPEG, GIF or WebP". Built from the catalogue rather than Intl.ListFormat, whose wording varies with the
 * ICU data of the runtime: the server's and the browser's text must match for hydration.
 */
function typeList(types: string[]): string {
  const names = types.map((type) => TYPE_NAMES[type] ?? type.replace(/^image\//, '').toUpperCase());
  if (names.length < 2) return names.join('');
  return t('common.orList', { items: names.slice(0, -1).join(', '), last: names[names.length - 1]! });
}

/** Why a file cannot be sent, or null. An unknown type (some systems report none) is left to the server. */
function precheck(file: File, limits: MediaLimitsView): string | null {
  if (file.type && !limits.imageTypes.includes(file.type)) return t('image.wrongType', { types: typeList(limits.imageTypes) });
  if (file.size === 0) return t('image.empty');
  if (file.size > limits.maxUploadBytes) return t('image.tooLarge', { size: formatBytes(file.size), max: formatBytes(limits.maxUploadBytes) });
  return null;
}

const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes('Files');

export function ImageUploadField({ label, description, purpose, currentUrl, previewAlt, limits, onUpload, onRemove, disabled = false }: ImageUploadFieldProps) {
  const router = useRouter();
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const chooseRef = useRef<HTMLButtonElement>(null);
  const upload = useRef<UploadHandle | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [error, setError] = useState<string>();
  // Said politely: the start, every quarter of the transfer, processing, the outcome (not every percent).
  const [status, setStatus] = useState('');
  const [dragging, setDragging] = useState(false);
  // What the preview shows: the server's answer until a change here replaces it.
  const [shownUrl, setShownUrl] = useState(currentUrl);
  useEffect(() => setShownUrl(currentUrl), [currentUrl]);
  useEffect(() => () => upload.current?.abort(), []);
  // Set when the Remove button goes away with the image: focus moves to the button that adds one, once it is
  // enabled again (after this render), instead of falling to the top of the page.
  const [refocus, setRefocus] = useState(0);
  useEffect(() => {
    if (refocus) chooseRef.current?.focus();
  }, [refocus]);

  const busy = phase.kind !== 'idle';
  const size = IMAGE_SIZES[purpose].main;
  const descriptionId = `${id}-description`;
  const errorId = `${id}-error`;

  const send = useCallback(
    async (file: File) => {
      setError(undefined);
      const refused = precheck(file, limits);
      if (refused) {
        setStatus('');
        setError(refused);
        return;
      }
      setPhase({ kind: 'uploading', percent: 0 });
      setStatus(t('image.uploadingStart', { label }));
      let lastQuarter = 0;
      let sent = false;
      // Once every byte is sent the server still decodes and re-encodes the image before answering: say so.
      const processing = () => {
        if (sent) return;
        sent = true;
        setPhase({ kind: 'saving' });
        setStatus(t('image.processing', { label }));
      };
      const handle = uploadImage(limits.imageUploadPath, purpose, file, (fraction) => {
        const percent = Math.min(100, Math.round(fraction * 100));
        if (percent >= 100) return processing();
        setPhase((p) => (p.kind === 'uploading' ? { kind: 'uploading', percent } : p));
        const quarter = Math.floor(percent / 25);
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          setStatus(t('image.uploadingPercent', { label, percent: quarter * 25 }));
        }
      });
      upload.current = handle;
      try {
        const uploaded = await handle.done;
        upload.current = null;
        processing();
        // Stored; attaching it to the community or circle is one more call.
        await onUpload(uploaded.id);
        setShownUrl(uploaded.variants.main?.url ?? uploaded.url);
        setStatus(t('image.saved', { label }));
        router.refresh();
      } catch (err) {
        upload.current = null;
        if (isClientError(err, 'ABORTED')) {
          setStatus(t('image.cancelled', { label }));
        } else {
          setStatus('');
          setError(describeError(err).message);
        }
      } finally {
        setPhase({ kind: 'idle' });
      }
    },
    [label, limits, onUpload, purpose, router],
  );

  const remove = async () => {
    setError(undefined);
    setPhase({ kind: 'removing' });
    try {
      await onRemove();
      setShownUrl(null);
      setStatus(t('image.removed', { label }));
      setRefocus((n) => n + 1);
      router.refresh();
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setPhase({ kind: 'idle' });
    }
  };

  const onDragOver = (event: DragEvent<HTMLFieldSetElement>) => {
    if (!hasFiles(event)) return;
    // Always claim a dragged file, so a drop while busy does not make the browser open it instead of the page.
    event.preventDefault();
    event.dataTransfer.dropEffect = busy || disabled ? 'none' : 'copy';
    if (!busy && !disabled) setDragging(true);
  };
  const onDragLeave = (event: DragEvent<HTMLFieldSetElement>) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
  };
  const onDrop = (event: DragEvent<HTMLFieldSetElement>) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file && !busy && !disabled) void send(file);
  };

  const chooseText = shownUrl ? t('image.replace') : t('image.choose');
  const describedBy = [descriptionId, error ? errorId : undefined].filter(Boolean).join(' ');

  return (
    <fieldset
      className={['c-fieldset', 'c-image-field', `c-image-field--${purpose.toLowerCase().replace('_', '-')}`, dragging ? 'c-image-field--dragging' : '', error ? 'c-field--invalid' : ''].filter(Boolean).join(' ')}
      // No aria-busy here: screen readers hold back live-region changes inside a busy region, and the progress
      // announcements below are the point.
      data-testid={`image-field-${purpose.toLowerCase()}`}
      onDragEnter={onDragOver}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      <legend className="c-field__label">{label}</legend>
      <p id={descriptionId} className="c-field__description">
        {description ? <>{description} </> : null}
        {t('image.accepts', { types: typeList(limits.imageTypes), max: formatBytes(limits.maxUploadBytes) })} {disabled ? null : t('image.dropHint')}
      </p>
      <div className="c-image-field__preview">
        {shownUrl ? (
          // A plain <img>: the media service already serves the sizes pages need, as WebP (no optimiser in between).
          <img src={shownUrl} alt={previewAlt} width={size.width} height={size.height} decoding="async" />
        ) : (
          <div className="c-image-field__empty" style={{ aspectRatio: `${size.width} / ${size.height}` }}>
            {t('image.none')}
          </div>
        )}
      </div>
      {busy && phase.kind !== 'removing' ? (
        <div className="c-image-field__progress">
          <progress max={100} value={phase.kind === 'uploading' ? phase.percent : undefined} aria-label={t('image.progressLabel', { label })} />
          <span className="c-muted c-small" aria-hidden="true">
            {phase.kind === 'uploading' ? t('image.percent', { percent: phase.percent }) : t('image.processingShort')}
          </span>
        </div>
      ) : null}
      {/* Always mounted, so each change of its text is announced. */}
      <p role="status" className="c-image-field__status c-muted c-small">
        {status}
      </p>
      <div role="alert" id={errorId}>
        {error ? <p className="c-field__error">{error}</p> : null}
      </div>
      {disabled ? null : (
        <div className="c-actions">
          <Button ref={chooseRef} variant="secondary" pending={phase.kind === 'uploading' || phase.kind === 'saving'} disabled={phase.kind === 'removing'} aria-label={t('image.buttonLabel', { action: chooseText, label })} aria-describedby={describedBy} onClick={() => inputRef.current?.click()}>
            {chooseText}
          </Button>
          {phase.kind === 'uploading' ? (
            <Button variant="quiet" aria-label={t('image.buttonLabel', { action: t('image.cancel'), label })} onClick={() => upload.current?.abort()}>
              {t('image.cancel')}
            </Button>
          ) : null}
          {shownUrl && phase.kind !== 'uploading' ? (
            <Button variant="danger" pending={phase.kind === 'removing'} disabled={phase.kind === 'saving'} aria-label={t('image.buttonLabel', { action: t('image.remove'), label })} onClick={() => void remove()}>
              {t('image.remove')}
            </Button>
          ) : null}
        </div>
      )}
      {/* The picker itself; the button above opens it, and it is kept out of the tab order and the accessibility tree. */}
      <input
        ref={inputRef}
        type="file"
        hidden
        accept={limits.imageTypes.join(',')}
        tabIndex={-1}
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          // Cleared, so choosing the same file again (after an error) is noticed.
          event.currentTarget.value = '';
          if (file) void send(file);
        }}
      />
    </fieldset>
  );
}
