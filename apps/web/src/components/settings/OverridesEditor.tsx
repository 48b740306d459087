'use client';
/** Settings → Permissions: per-space overrides as a table of permissions × roles, each allow, inherit or deny. */
import { useRouter } from 'next/navigation';
import { useCallback, useState } from 'react';
import { SetSpaceOverrideDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { PERMISSIONS, type Permission } from '@/lib/permissions';
import { Button, Form, Notice, TableScroller, useForm, type FormValues } from '@/ui';

type Choice = 'allow' | 'inherit' | 'deny';

export interface OverridesEditorProps {
  spaceId: string;
  spaceName: string;
  overrides: { subject: string; allow: string[]; deny: string[] }[];
  /** Built-in roles ("member", "moderator") and custom roles (by id), in column order. */
  subjects: { id: string; name: string }[];
  viewerPermissions: string[];
}

const cell = (subject: string, p: Permission) => `${subject}|${p}`;

export function OverridesEditor({ spaceId, spaceName, overrides, subjects, viewerPermissions }: OverridesEditorProps) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const initial = (subject: string, p: Permission): Choice => {
    const o = overrides.find((x) => x.subject === subject);
    return o?.allow.includes(p) ? 'allow' : o?.deny.includes(p) ? 'deny' : 'inherit';
  };

  const action = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      let changed = 0;
      for (const s of subjects) {
        const allow = PERMISSIONS.filter((p) => (v[cell(s.id, p)] ?? initial(s.id, p)) === 'allow');
        const deny = PERMISSIONS.filter((p) => (v[cell(s.id, p)] ?? initial(s.id, p)) === 'deny');
        const o = overrides.find((x) => x.subject === s.id);
        const same = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
        if (same(allow, o?.allow ?? []) && same(deny, o?.deny ?? [])) continue;
        await browserClient.request(SetSpaceOverrideDocument, { spaceId, subject: s.id, allow, deny });
        changed++;
      }
      setNotice(changed ? t('settings.permissions.saved', { space: spaceName }) : t('settings.permissions.unchanged'));
      router.refresh();
    },
    [spaceId, spaceName, subjects, overrides, router],
  );
  const form = useForm(action);

  return (
    <div className="c-stack">
      <p className="c-muted">{t('settings.permissions.howItWorks')}</p>
      <Notice message={notice} />
      <Form controller={form} aria-label={t('settings.permissions.in', { space: spaceName })}>
        <TableScroller label={t('settings.permissions.tableLabel', { space: spaceName })}>
          <table className="c-table">
            <caption className="c-visually-hidden">{t('settings.permissions.tableLabel', { space: spaceName })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('settings.permissions.permission')}</th>
                {subjects.map((s) => (
                  <th key={s.id} scope="col">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {PERMISSIONS.map((p) => {
                const held = viewerPermissions.includes(p);
                return (
                  <tr key={p}>
                    <th scope="row">{t(`permission.${p}`)}</th>
                    {subjects.map((s) => (
                      <td key={s.id}>
                        <select
                          name={cell(s.id, p)}
                          defaultValue={initial(s.id, p)}
                          // You cannot allow or deny what you do not hold yourself.
                          disabled={!held}
                          aria-label={t('settings.permissions.cellLabel', { permission: t(`permission.${p}`), subject: s.name })}
                        >
                          <option value="inherit">{t('settings.permissions.inherit')}</option>
                          <option value="allow">{t('settings.permissions.allow')}</option>
                          <option value="deny">{t('settings.permissions.deny')}</option>
                        </select>
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableScroller>
        <div>
          <Button type="submit" pending={form.pending}>
            {t('settings.permissions.save')}
          </Button>
        </div>
      </Form>
    </div>
  );
}
