/**
 * A post's attachments: images inline (their thumbnail, linking to the full size), every other file as a download
 * link with its name, type and size. The links are the API's short-lived signed URLs, used as they come.
 */
import type { AttachmentFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { formatBytes } from '@/lib/images';

/** The stored thumbnail's box (services/media: inside 480×480, aspect kept), so the page does not shift. */
function thumbSize(a: AttachmentFieldsFragment): { width: number; height: number } | null {
  if (!a.width || !a.height) return null;
  const scale = Math.min(1, 480 / a.width, 480 / a.height);
  return { width: Math.max(1, Math.round(a.width * scale)), height: Math.max(1, Math.round(a.height * scale)) };
}

export function Attachments({ attachments }: { attachments: AttachmentFieldsFragment[] }) {
  if (attachments.length === 0) return null;
  const images = attachments.filter((a) => a.kind === 'IMAGE');
  const files = attachments.filter((a) => a.kind !== 'IMAGE');
  return (
    <div className="c-post-attachments" data-testid="post-attachments">
      {images.length ? (
        <ul className="c-post-images" aria-label={t('attachments.images')}>
          {images.map((a) => {
            const size = thumbSize(a);
            return (
              <li key={a.id}>
                <a href={a.url} className="c-post-image">
                  {/* A plain <img>: media serves the sizes (WebP); the links are signed and short-lived. */}
                  <img src={a.thumbUrl ?? a.url} alt={t('attachments.imageAlt', { name: a.name })} width={size?.width} height={size?.height} loading="lazy" decoding="async" />
                </a>
              </li>
            );
          })}
        </ul>
      ) : null}
      {files.length ? (
        <ul className="c-list c-post-files" aria-label={t('attachments.files')}>
          {files.map((a) => (
            <li key={a.id} className="c-post-file">
              <a href={a.url} download={a.name}>
                {a.name}
              </a>{' '}
              <span className="c-muted c-small">
                ({t(`files.kind.${a.kind}`)}, {formatBytes(a.bytes)})
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
