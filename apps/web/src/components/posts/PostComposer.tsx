'use client';
/**
 * Writing a post, or editing one: title, Markdown body (Write / Preview), attachments (picked or dropped, uploaded
 * with progress, removable) and, for a new post, a poll. Errors from the API land on the field they name
 * (`extensions.field`: `title`, `body`, `poll.options.1`, …), or above the form.
 */
import { useRouter } from 'next/navigation';
import { useCallback, useId, useState } from 'react';
import { ClientError, CreatePostDocument, UpdatePostDocument, type AttachmentFieldsFragment, type PollInput } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import type { FileLimitsView } from '@/lib/media';
import { postPath } from '@/lib/posts';
import { Button, Form, TextField, useForm, type FormValues } from '@/ui';
import { AttachmentPicker, useAttachments } from './AttachmentPicker';
import { MarkdownField } from './MarkdownField';
import { PollBuilder } from './PollBuilder';

export type ComposerMode =
  | { kind: 'create'; communityId: string; spaceId: string; spaceName: string; slug: string }
  | { kind: 'edit'; postId: string; title: string | null; body: string; attachments: AttachmentFieldsFragment[] };

/** Server field names that have no input of their own here, mapped to the input that shows the message. */
const FIELD_MAP: Record<string, string> = { 'poll.options': 'poll.options.0', 'poll.multipleChoice': 'poll.choice', input: 'body' };

/** A local refusal shaped like the API's, so the form shows it the same way. */
const refuse = (message: string, field?: string) => new ClientError({ code: 'BAD_USER_INPUT', message, field });

function pollInput(values: FormValues): PollInput {
  const options: string[] = [];
  for (let i = 0; values[`poll.options.${i}`] !== undefined; i++) options.push(values[`poll.options.${i}`]!.trim());
  let closesAt: string | null = null;
  if (values['poll.closesAt']) {
    // datetime-local has no zone: it is the writer's own local time.
    const when = new Date(values['poll.closesAt']);
    if (Number.isNaN(when.getTime())) throw refuse(t('pollBuilder.badTime'), 'poll.closesAt');
    closesAt = when.toISOString();
  }
  return { question: values['poll.question']?.trim() || null, options, multipleChoice: values['poll.choice'] === 'multiple', closesAt };
}

export function PostComposer({ mode, limits, onDone }: { mode: ComposerMode; limits: FileLimitsView | null; onDone?: () => void }) {
  const router = useRouter();
  const id = useId();
  const editing = mode.kind === 'edit';
  const [body, setBody] = useState(editing ? mode.body : '');
  const [withPoll, setWithPoll] = useState(false);
  const attachments = useAttachments(limits, editing ? mode.attachments : []);

  const action = useCallback(
    async (values: FormValues): Promise<void | 'navigating'> => {
      if (attachments.busy) throw refuse(t('attachments.waitForUploads'));
      const title = values.title?.trim() || null;
      if (mode.kind === 'create') {
        const { createPost } = await browserClient.request(CreatePostDocument, {
          input: { communityId: mode.communityId, spaceId: mode.spaceId, title, body: values.body ?? '', attachments: attachments.ids(), poll: withPoll ? pollInput(values) : null },
        });
        router.push(postPath(mode.slug, createPost.id));
        return 'navigating';
      }
      await browserClient.request(UpdatePostDocument, { id: mode.postId, input: { title: title ?? '', body: values.body ?? '', attachments: attachments.ids() } });
      router.refresh();
      onDone?.();
    },
    [attachments, mode, onDone, router, withPoll],
  );
  const form = useForm(action, FIELD_MAP);
  const label = editing ? t('composer.editLabel') : t('composer.label', { space: mode.spaceName });

  return (
    <Form controller={form} aria-label={label} className="c-composer">
      <TextField name="title" label={t('composer.title')} maxLength={200} defaultValue={editing ? (mode.title ?? '') : ''} {...form.fieldState('title')} />
      <MarkdownField name="body" label={t('composer.body')} value={body} onChange={setBody} rows={editing ? 10 : 6} {...form.fieldState('body')} />
      <AttachmentPicker controller={attachments} limits={limits} />
      {editing ? null : (
        <div className="c-stack">
          <div>
            <Button variant="secondary" aria-expanded={withPoll} aria-controls={`${id}-poll`} onClick={() => setWithPoll((v) => !v)}>
              {withPoll ? t('composer.removePoll') : t('composer.addPoll')}
            </Button>
          </div>
          <div id={`${id}-poll`}>{withPoll ? <PollBuilder form={form} /> : null}</div>
        </div>
      )}
      <div className="c-actions">
        <Button type="submit" pending={form.pending}>
          {editing ? t('composer.save') : t('composer.submit')}
        </Button>
        {editing ? (
          <Button variant="secondary" disabled={form.pending} onClick={onDone}>
            {t('common.cancel')}
          </Button>
        ) : null}
      </div>
    </Form>
  );
}
