'use client';
/**
 * What admins do to channels, from the chat screen itself: create one in a space (the "+" beside the space's
 * name), and from the channel's header rename it, set its topic and slow mode, move it up or down the list, or
 * delete it after typing its name.
 */
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { CreateChannelDocument, DeleteChannelDocument, ReorderChannelsDocument, UpdateChannelDocument } from '@circles/client';
import { ActionDialog } from '@/components/settings/shared';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { type ChannelView } from '@/lib/chat';
import { formatDuration } from '@/lib/format';
import { Button, SelectField, TextAreaField, TextField, type FormController, type FormValues } from '@/ui';
import { useShell } from './ChatShell';

const SLOW_MODES = [0, 5, 10, 30, 60, 300, 900, 3600, 21600];

function ChannelFields({ form, channel }: { form: FormController; channel?: ChannelView }) {
  return (
    <>
      <TextField name="name" label={t('chat.admin.name')} description={t('chat.admin.nameHint')} defaultValue={channel?.name ?? ''} required maxLength={40} autoComplete="off" {...form.fieldState('name')} />
      <TextAreaField name="topic" label={t('chat.admin.topic')} defaultValue={channel?.topic ?? ''} maxLength={300} rows={2} {...form.fieldState('topic')} />
      <SelectField
        name="slowModeSeconds"
        label={t('chat.admin.slowMode')}
        description={t('chat.admin.slowModeHint')}
        defaultValue={String(channel?.slowModeSeconds ?? 0)}
        options={[...new Set([...SLOW_MODES, channel?.slowModeSeconds ?? 0])].sort((a, b) => a - b).map((s) => ({ value: String(s), label: s === 0 ? t('chat.admin.slowModeOff') : formatDuration(s) }))}
        {...form.fieldState('slowModeSeconds')}
      />
    </>
  );
}

const fields = (v: FormValues) => ({ name: v.name!.trim(), topic: (v.topic ?? '').trim(), slowModeSeconds: Number(v.slowModeSeconds ?? 0) });

export function CreateChannelButton({ communityId, space }: { communityId: string; space: { id: string; name: string } }) {
  const [open, setOpen] = useState(false);
  const { addChannel, hrefOf } = useShell();
  const router = useRouter();
  return (
    <>
      <Button variant="quiet" className="c-chat-nav__add" aria-label={t('chat.admin.createIn', { space: space.name })} onClick={() => setOpen(true)}>
        <span aria-hidden="true">+</span>
      </Button>
      <ActionDialog
        open={open}
        onClose={() => setOpen(false)}
        title={t('chat.admin.createIn', { space: space.name })}
        submitLabel={t('chat.admin.create')}
        action={async (v) => {
          const { createChannel } = await browserClient.request(CreateChannelDocument, { input: { communityId, spaceId: space.id, ...fields(v) } });
          addChannel(createChannel);
          setOpen(false);
          router.push(hrefOf(createChannel.id));
        }}
      >
        {(form) => <ChannelFields form={form} />}
      </ActionDialog>
    </>
  );
}

/** The channel settings of a space channel's header (admins only). */
export function ChannelSettingsButton({ channel }: { channel: ChannelView }) {
  const [dialog, setDialog] = useState<'edit' | 'delete' | null>(null);
  const { channels, updateChannel, removeChannel, mode } = useShell();
  const router = useRouter();
  const [moving, setMoving] = useState(false);
  const [moveError, setMoveError] = useState<string>();
  const siblings = channels.filter((c) => c.spaceId === channel.spaceId).sort((a, b) => a.position - b.position);
  const index = siblings.findIndex((c) => c.id === channel.id);

  const move = async (by: -1 | 1) => {
    const order = siblings.map((c) => c.id);
    const [id] = order.splice(index, 1);
    order.splice(index + by, 0, id!);
    setMoving(true);
    setMoveError(undefined);
    try {
      const { reorderChannels } = await browserClient.request(ReorderChannelsDocument, { spaceId: channel.spaceId!, channelIds: order });
      for (const c of reorderChannels) updateChannel({ id: c.id, position: c.position });
    } catch {
      setMoveError(t('errors.unknown'));
    } finally {
      setMoving(false);
    }
  };

  return (
    <>
      <Button variant="secondary" onClick={() => setDialog('edit')}>
        {t('chat.admin.settings')}
      </Button>
      <ActionDialog
        open={dialog === 'edit'}
        onClose={() => setDialog(null)}
        title={t('chat.admin.settingsOf', { name: channel.name ?? '' })}
        submitLabel={t('common.save')}
        description={
          <div className="c-stack">
            <div className="c-actions" role="group" aria-label={t('chat.admin.position')}>
              <Button variant="secondary" pending={moving} disabled={index <= 0} onClick={() => void move(-1)}>
                {t('chat.admin.moveUp')}
              </Button>
              <Button variant="secondary" pending={moving} disabled={index < 0 || index >= siblings.length - 1} onClick={() => void move(1)}>
                {t('chat.admin.moveDown')}
              </Button>
            </div>
            {moveError ? <p className="c-field__error">{moveError}</p> : null}
            <p>
              <Button variant="danger" onClick={() => setDialog('delete')}>
                {t('chat.admin.delete')}
              </Button>
            </p>
          </div>
        }
        action={async (v) => {
          const { updateChannel: updated } = await browserClient.request(UpdateChannelDocument, { id: channel.id, input: fields(v) });
          updateChannel(updated);
          setDialog(null);
          router.refresh();
        }}
      >
        {(form) => <ChannelFields form={form} channel={channel} />}
      </ActionDialog>
      <ActionDialog
        open={dialog === 'delete'}
        onClose={() => setDialog(null)}
        title={t('chat.admin.deleteTitle', { name: channel.name ?? '' })}
        description={<p>{t('chat.admin.deleteWarning')}</p>}
        submitLabel={t('chat.admin.deleteSubmit')}
        variant="danger"
        fieldMap={{ confirmName: 'confirmName' }}
        action={async (v) => {
          await browserClient.request(DeleteChannelDocument, { id: channel.id, confirmName: v.confirmName ?? '' });
          removeChannel(channel.id);
          setDialog(null);
          router.push(mode.kind === 'community' ? `/c/${mode.slug}/chat` : '/messages');
        }}
      >
        {(form) => <TextField name="confirmName" label={t('chat.admin.typeName', { name: channel.name ?? '' })} required autoComplete="off" {...form.fieldState('confirmName')} />}
      </ActionDialog>
    </>
  );
}
