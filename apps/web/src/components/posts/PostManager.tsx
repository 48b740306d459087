'use client';
/**
 * What can be done to a post, for the people who may: its author edits (in place, with the composer) and deletes;
 * moderators remove with a reason (the author sees it), restore, pin and lock. Every change reloads the page's
 * server-rendered view.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { DeletePostDocument, LockPostDocument, PinPostDocument, RemovePostDocument, RestorePostDocument, type AttachmentFieldsFragment, type PostStatus } from '@circles/client';
import { ActionDialog, useDialog } from '@/components/settings/shared';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import type { FileLimitsView } from '@/lib/media';
import { useAction } from '@/lib/use-action';
import { Alert, Button, Notice, TextAreaField } from '@/ui';
import { PostComposer } from './PostComposer';

export interface ManagedPost {
  id: string;
  title: string | null;
  body: string | null;
  status: PostStatus;
  pinned: boolean;
  locked: boolean;
  attachments: AttachmentFieldsFragment[];
  viewerCanEdit: boolean;
  viewerCanDelete: boolean;
  viewerCanModerate: boolean;
}

type DialogId = 'delete' | 'remove';

export function PostManager({ post, limits, children }: { post: ManagedPost; limits: FileLimitsView | null; children: ReactNode }) {
  const router = useRouter();
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string>();
  const dialog = useDialog<DialogId>();
  const quick = useAction();
  const [quickKind, setQuickKind] = useState<'pin' | 'lock' | 'restore' | null>(null);
  const editRef = useRef<HTMLButtonElement>(null);
  const regionRef = useRef<HTMLDivElement>(null);

  const done = (message: string) => {
    dialog.close();
    setNotice(message);
    router.refresh();
  };
  const quickAction = (kind: 'pin' | 'lock' | 'restore', work: () => Promise<string>) => {
    setQuickKind(kind);
    setNotice(undefined);
    quick.run(async () => {
      const message = await work();
      setNotice(message);
      router.refresh();
    });
  };
  // Closing the editor gives focus back to its Edit button, once a render has put the button back.
  const refocusEdit = useRef(false);
  useEffect(() => {
    if (editing || !refocusEdit.current) return;
    refocusEdit.current = false;
    editRef.current?.focus();
  }, [editing]);
  const closeEditor = () => {
    refocusEdit.current = true;
    setEditing(false);
  };

  const published = post.status === 'PUBLISHED';
  const canEdit = post.viewerCanEdit && published && post.body !== null;
  const canDelete = post.viewerCanDelete && post.status !== 'DELETED';
  const moderate = post.viewerCanModerate && post.status !== 'DELETED';
  const hasActions = canEdit || canDelete || moderate;

  return (
    <div ref={regionRef} tabIndex={-1} className="c-post__managed">
      {editing ? (
        <section aria-label={t('composer.editLabel')} className="c-post__editor">
          <PostComposer
            mode={{ kind: 'edit', postId: post.id, title: post.title, body: post.body ?? '', attachments: post.attachments }}
            limits={limits}
            onDone={() => {
              setNotice(t('post.saved'));
              closeEditor();
            }}
          />
        </section>
      ) : (
        children
      )}
      <Notice message={notice} />
      {quick.error ? <Alert tone="error">{quick.error}</Alert> : null}
      {hasActions && !editing ? (
        <div className="c-actions c-post__actions" role="group" aria-label={t('post.actions')}>
          {canEdit ? (
            <Button ref={editRef} variant="secondary" onClick={() => setEditing(true)}>
              {t('post.edit')}
            </Button>
          ) : null}
          {moderate && published ? (
            <>
              <Button
                variant="secondary"
                pending={quick.pending && quickKind === 'pin'}
                disabled={quick.pending && quickKind !== 'pin'}
                onClick={() =>
                  quickAction('pin', async () => {
                    await browserClient.request(PinPostDocument, { id: post.id, pinned: !post.pinned });
                    return post.pinned ? t('post.unpinned') : t('post.pinned');
                  })
                }
              >
                {post.pinned ? t('post.unpin') : t('post.pin')}
              </Button>
              <Button
                variant="secondary"
                pending={quick.pending && quickKind === 'lock'}
                disabled={quick.pending && quickKind !== 'lock'}
                onClick={() =>
                  quickAction('lock', async () => {
                    await browserClient.request(LockPostDocument, { id: post.id, locked: !post.locked });
                    return post.locked ? t('post.unlocked') : t('post.locked');
                  })
                }
              >
                {post.locked ? t('post.unlock') : t('post.lock')}
              </Button>
              <Button variant="danger" onClick={() => dialog.open('remove')}>
                {t('post.remove')}
              </Button>
            </>
          ) : null}
          {moderate && post.status === 'REMOVED' ? (
            <Button
              variant="secondary"
              pending={quick.pending && quickKind === 'restore'}
              onClick={() =>
                quickAction('restore', async () => {
                  await browserClient.request(RestorePostDocument, { id: post.id });
                  return t('post.restored');
                })
              }
            >
              {t('post.restore')}
            </Button>
          ) : null}
          {canDelete ? (
            <Button variant="danger" onClick={() => dialog.open('delete')}>
              {t('post.delete')}
            </Button>
          ) : null}
        </div>
      ) : null}

      <ActionDialog
        open={dialog.isOpen('delete')}
        onClose={dialog.close}
        title={t('post.deleteTitle')}
        description={<p>{t('post.deleteHint')}</p>}
        submitLabel={t('post.delete')}
        variant="danger"
        fallbackFocus={regionRef}
        action={async () => {
          await browserClient.request(DeletePostDocument, { id: post.id });
          done(t('post.deleted'));
        }}
      />
      <ActionDialog
        open={dialog.isOpen('remove')}
        onClose={dialog.close}
        title={t('post.removeTitle')}
        description={<p>{t('post.removeHint')}</p>}
        submitLabel={t('post.remove')}
        variant="danger"
        fallbackFocus={regionRef}
        action={async (v) => {
          await browserClient.request(RemovePostDocument, { id: post.id, reason: v.reason ?? '' });
          done(t('post.removedNotice'));
        }}
      >
        {(form) => <TextAreaField name="reason" label={t('post.reason')} description={t('post.reasonHint')} required rows={3} maxLength={500} {...form.fieldState('reason')} />}
      </ActionDialog>
    </div>
  );
}
