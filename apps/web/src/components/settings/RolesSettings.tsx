'use client';
/** Settings → Roles: custom roles with named permissions (create, edit, delete). */
import { useRouter } from 'next/navigation';
import { useCallback, useRef, useState } from 'react';
import { CreateRoleDocument, DeleteRoleDocument, UpdateRoleDocument, type CustomRoleFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { PERMISSIONS, type Permission } from '@/lib/permissions';
import { Badge, Button, Card, Checkbox, EmptyState, Form, Notice, TextField, useForm, type FieldState, type FormController, type FormValues } from '@/ui';
import { ActionDialog, useDialog, useFocusRescue } from './shared';

const permField = (p: Permission) => `perm.${p}`;
/** "You cannot hand out a permission you lack" arrives about the list: show it on the first box. */
const ROLE_FIELDS = { permissions: permField(PERMISSIONS[0]) };

function chosenPermissions(v: FormValues): Permission[] {
  return PERMISSIONS.filter((p) => v[permField(p)] === 'on');
}

/** The name and the 11 permissions, each with what it lets people do. Permissions the viewer lacks are shown but cannot be ticked. */
function RoleFields({ form, role, viewerPermissions }: { form: FormController; role?: CustomRoleFieldsFragment; viewerPermissions: string[] }) {
  const permissionsError: FieldState = form.fieldState(permField(PERMISSIONS[0]));
  return (
    <>
      <TextField name="name" label={t('settings.roles.name')} required maxLength={40} defaultValue={role?.name} autoComplete="off" {...form.fieldState('name')} />
      <fieldset className="c-fieldset" aria-describedby={permissionsError.error ? 'role-permissions-error' : undefined}>
        <legend>{t('settings.roles.permissions')}</legend>
        {PERMISSIONS.map((p) => {
          const held = viewerPermissions.includes(p);
          return (
            <Checkbox
              key={p}
              name={permField(p)}
              label={t(`permission.${p}`)}
              description={held ? t(`permission.${p}.hint`) : `${t(`permission.${p}.hint`)} ${t('settings.roles.cannotGrant')}`}
              defaultChecked={role?.permissions.includes(p) ?? false}
              disabled={!held}
            />
          );
        })}
        {permissionsError.error ? (
          <p id="role-permissions-error" className="c-field__error">
            {permissionsError.error}
          </p>
        ) : null}
      </fieldset>
    </>
  );
}

export function RolesManager({ communityId, roles, viewerPermissions }: { communityId: string; roles: CustomRoleFieldsFragment[]; viewerPermissions: string[] }) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const dialog = useDialog();
  const listRef = useRef<HTMLUListElement>(null);
  const [createKey, setCreateKey] = useState(0);
  useFocusRescue(listRef, roles);

  const create = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      const name = (v.name ?? '').trim();
      await browserClient.request(CreateRoleDocument, { communityId, name, permissions: chosenPermissions(v) });
      setNotice(t('settings.roles.created', { name }));
      // A fresh form for the next role.
      setCreateKey((k) => k + 1);
      router.refresh();
    },
    [communityId, router],
  );
  const createForm = useForm(create, ROLE_FIELDS);
  const editing = roles.find((r) => dialog.isOpen(`edit:${r.id}`));
  const deleting = roles.find((r) => dialog.isOpen(`delete:${r.id}`));

  return (
    <div className="c-stack">
      <Notice message={notice} />
      <Card title={t('settings.roles.listTitle')}>
        {roles.length === 0 ? (
          <EmptyState>{t('settings.roles.empty')}</EmptyState>
        ) : (
          <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('settings.roles.listTitle')}>
            {roles.map((role) => (
              <li key={role.id} className="c-row-between" data-testid="role">
                <div className="c-entry">
                  <span className="c-entry__title">{role.name}</span>
                  <span className="c-row">
                    {role.permissions.length === 0 ? <span className="c-muted">{t('settings.roles.noPermissions')}</span> : null}
                    {role.permissions.map((p) => (
                      <Badge key={p}>{t(`permission.${p as Permission}`)}</Badge>
                    ))}
                  </span>
                </div>
                <div className="c-actions">
                  <Button variant="secondary" aria-label={t('settings.roles.editLabel', { name: role.name })} onClick={() => dialog.open(`edit:${role.id}`)}>
                    {t('common.edit')}
                  </Button>
                  <Button variant="danger" aria-label={t('settings.roles.deleteLabel', { name: role.name })} onClick={() => dialog.open(`delete:${role.id}`)}>
                    {t('common.delete')}
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={t('settings.roles.create')}>
        <Form key={createKey} controller={createForm} aria-label={t('settings.roles.create')}>
          <RoleFields form={createForm} viewerPermissions={viewerPermissions} />
          <div>
            <Button type="submit" pending={createForm.pending}>
              {t('settings.roles.createSubmit')}
            </Button>
          </div>
        </Form>
      </Card>

      <ActionDialog
        open={editing !== undefined}
        onClose={dialog.close}
        title={t('settings.roles.editTitle', { name: editing?.name ?? '' })}
        submitLabel={t('common.save')}
        fieldMap={ROLE_FIELDS}
        action={async (v) => {
          const name = (v.name ?? '').trim();
          await browserClient.request(UpdateRoleDocument, { id: editing!.id, name, permissions: chosenPermissions(v) });
          dialog.close();
          setNotice(t('settings.roles.updated', { name }));
          router.refresh();
        }}
      >
        {(form) => <RoleFields form={form} role={editing} viewerPermissions={viewerPermissions} />}
      </ActionDialog>
      <ActionDialog
        open={deleting !== undefined}
        onClose={dialog.close}
        title={t('settings.roles.deleteTitle', { name: deleting?.name ?? '' })}
        description={<p>{t('settings.roles.deleteWarning')}</p>}
        submitLabel={t('common.delete')}
        variant="danger"
        fallbackFocus={listRef}
        action={async () => {
          const name = deleting!.name;
          await browserClient.request(DeleteRoleDocument, { id: deleting!.id });
          dialog.close();
          setNotice(t('settings.roles.deleted', { name }));
          router.refresh();
        }}
      />
    </div>
  );
}
