'use client';
/** Settings → Circles: every circle (hidden ones too), create, edit, delete with the name typed to confirm. */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useRef, useState } from 'react';
import { CreateCircleDocument, DeleteCircleDocument, UpdateCircleDocument, type CircleAccess, type CircleSummaryFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { circleMembersLabel } from '@/lib/format';
import { browserClient } from '@/lib/browser-api';
import { Badge, Button, Card, Checkbox, CircleThumb, EmptyState, Form, Notice, RadioGroup, TextAreaField, TextField, useForm, type FormController, type FormValues } from '@/ui';
import { ActionDialog, useDialog, useFocusRescue } from './shared';

const ACCESS: CircleAccess[] = ['OPEN', 'APPROVAL', 'INVITE', 'PAID'];

function circleInput(v: FormValues) {
  return { name: (v.name ?? '').trim(), description: v.description ?? '', access: (v.access ?? 'OPEN') as CircleAccess, hidden: v.hidden === 'on' };
}

function CircleFields({ form, circle }: { form: FormController; circle?: CircleSummaryFieldsFragment }) {
  return (
    <>
      <TextField name="name" label={t('settings.circles.name')} required maxLength={80} defaultValue={circle?.name} autoComplete="off" {...form.fieldState('name')} />
      <TextAreaField name="description" label={t('field.description')} rows={3} maxLength={2000} defaultValue={circle?.description} {...form.fieldState('description')} />
      <RadioGroup
        name="access"
        legend={t('settings.circles.access')}
        defaultValue={circle?.access ?? 'OPEN'}
        options={ACCESS.map((a) => ({ value: a, label: t(`circleAccess.${a}`), description: t(`circleAccess.${a}.hint`) }))}
        error={form.fieldState('access').error}
      />
      <Checkbox name="hidden" label={t('settings.circles.hidden')} description={t('settings.circles.hiddenHint')} defaultChecked={circle?.hidden ?? false} />
    </>
  );
}

export function CircleManager({ communityId, slug, circles, archived }: { communityId: string; slug: string; circles: CircleSummaryFieldsFragment[]; archived: boolean }) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const [createKey, setCreateKey] = useState(0);
  const dialog = useDialog();
  const listRef = useRef<HTMLUListElement>(null);
  useFocusRescue(listRef, circles);

  const create = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      const input = circleInput(v);
      await browserClient.request(CreateCircleDocument, { communityId, input });
      setNotice(t('settings.circles.created', { name: input.name }));
      setCreateKey((k) => k + 1);
      router.refresh();
    },
    [communityId, router],
  );
  const createForm = useForm(create);
  const editing = circles.find((c) => dialog.isOpen(`edit:${c.id}`));
  const deleting = circles.find((c) => dialog.isOpen(`delete:${c.id}`));

  return (
    <div className="c-stack">
      <Notice message={notice} />
      <Card title={t('settings.circles.listTitle')} description={<p>{t('settings.circles.imageHint')}</p>}>
        {circles.length === 0 ? (
          <EmptyState>{t('community.circlesEmpty')}</EmptyState>
        ) : (
          <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('settings.circles.listTitle')}>
            {circles.map((c) => (
              <li key={c.id} className="c-row-between" data-testid="circle">
                <div className="c-media-row">
                  {c.imageUrl ? <CircleThumb url={c.imageUrl} /> : null}
                  <div className="c-entry">
                    <span className="c-entry__title">
                      <Link href={`/c/${slug}/circles/${c.id}`}>{c.name}</Link> {c.hidden ? <Badge>{t('community.circleHidden')}</Badge> : null}
                    </span>
                    {c.description ? <span>{c.description}</span> : null}
                    <p className="c-entry__meta">{circleMembersLabel(c.memberCount, c.access)}</p>
                  </div>
                </div>
                {archived ? null : (
                  <div className="c-actions">
                    <Button variant="secondary" aria-label={t('settings.circles.editLabel', { name: c.name })} onClick={() => dialog.open(`edit:${c.id}`)}>
                      {t('common.edit')}
                    </Button>
                    <Button variant="danger" aria-label={t('settings.circles.deleteLabel', { name: c.name })} onClick={() => dialog.open(`delete:${c.id}`)}>
                      {t('common.delete')}
                    </Button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>
      {archived ? null : (
        <Card title={t('settings.circles.create')}>
          <Form key={createKey} controller={createForm} aria-label={t('settings.circles.create')}>
            <CircleFields form={createForm} />
            <div>
              <Button type="submit" pending={createForm.pending}>
                {t('settings.circles.createSubmit')}
              </Button>
            </div>
          </Form>
        </Card>
      )}

      <ActionDialog
        open={editing !== undefined}
        onClose={dialog.close}
        title={t('settings.circles.editTitle', { name: editing?.name ?? '' })}
        submitLabel={t('common.save')}
        action={async (v) => {
          const input = circleInput(v);
          await browserClient.request(UpdateCircleDocument, { id: editing!.id, input });
          dialog.close();
          setNotice(t('settings.circles.updated', { name: input.name }));
          router.refresh();
        }}
      >
        {(form) => <CircleFields form={form} circle={editing} />}
      </ActionDialog>
      <ActionDialog
        open={deleting !== undefined}
        onClose={dialog.close}
        title={t('settings.circles.deleteTitle', { name: deleting?.name ?? '' })}
        description={<p>{t('settings.circles.deleteWarning')}</p>}
        submitLabel={t('settings.circles.deleteForever')}
        variant="danger"
        fallbackFocus={listRef}
        action={async (v) => {
          const name = deleting!.name;
          await browserClient.request(DeleteCircleDocument, { id: deleting!.id, confirmName: v.confirmName ?? '' });
          dialog.close();
          setNotice(t('settings.circles.deleted', { name }));
          router.refresh();
        }}
      >
        {(form) => (
          <TextField name="confirmName" label={t('settings.circles.typeName', { name: deleting?.name ?? '' })} required autoComplete="off" spellCheck={false} {...form.fieldState('confirmName')} />
        )}
      </ActionDialog>
    </div>
  );
}
