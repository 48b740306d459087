'use client';
/**
 * Settings → Tiers: what members pay for the community's paid circles. Tiers are listed (archived ones marked),
 * created, edited and archived; amounts are typed in major units ("9.99") and sent in minor units (999). Promotion
 * codes are listed, created and deactivated. API errors land on the field the server names (`extensions.field`).
 */
import { useRouter } from 'next/navigation';
import { useCallback, useId, useRef, useState } from 'react';
import {
  ArchiveTierDocument,
  CreatePromoCodeDocument,
  CreateTierDocument,
  DeactivatePromoCodeDocument,
  UpdateTierDocument,
  type BillingInterval,
  type PromoDuration,
  type TierEditorQuery,
  type TierFieldsFragment,
  type UpdateTierInput,
} from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { fractionDigits, formatMoney, parseMajorAmount, toMajorInput } from '@/lib/money';
import { INTERVALS, inputError, onListFields, priceLabel, trialLabel } from '@/lib/payments';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, Card, Checkbox, EmptyState, Form, Notice, RadioGroup, TableScroller, TextAreaField, TextField, useForm, type FormController, type FormValues } from '@/ui';
import { LocalTime } from '../LocalTime';
import { ActionDialog, useDialog, useFocusRescue } from '../settings/shared';

type Circle = { id: string; name: string };
type PromoCode = TierEditorQuery['promoCodes'][number];

const AMOUNT_FIELDS: Record<BillingInterval, 'monthlyAmount' | 'yearlyAmount' | 'onceAmount'> = { MONTH: 'monthlyAmount', YEAR: 'yearlyAmount', ONCE: 'onceAmount' };

/** An amount field's value in minor units; null when left empty. Throws on the field when it is not an amount. */
function readAmount(values: FormValues, field: string, currency: string): number | null {
  const raw = (values[field] ?? '').trim();
  if (!raw) return null;
  const parsed = parseMajorAmount(raw, currency);
  if (parsed.ok) return parsed.minor;
  const digits = fractionDigits(currency);
  const message =
    parsed.reason === 'tooLarge' ? t('settings.tiers.tooLarge') : parsed.reason === 'digits' ? (digits === 0 ? t('settings.tiers.noDecimals') : t('settings.tiers.tooManyDigits', { digits })) : t('settings.tiers.badAmount');
  throw inputError(field, message);
}

function readWholeNumber(values: FormValues, field: string, fallback: number | null): number | null {
  const raw = (values[field] ?? '').trim();
  if (!raw) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw inputError(field, t('settings.tiers.badNumber'));
  return Number(raw);
}

/** The tier form's values, checked and converted; amounts in minor units. */
function readTier(values: FormValues, paidCircles: Circle[]) {
  const currency = (values.currency ?? '').trim().toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw inputError('currency', t('settings.tiers.badCurrency'));
  return {
    name: (values.name ?? '').trim(),
    description: (values.description ?? '').trim(),
    benefits: (values.benefits ?? '')
      .split('\n')
      .map((b) => b.trim())
      .filter(Boolean),
    circleIds: paidCircles.filter((c) => values[`circle:${c.id}`] === 'on').map((c) => c.id),
    trialDays: readWholeNumber(values, 'trialDays', 0) ?? 0,
    currency,
    amounts: {
      MONTH: readAmount(values, 'monthlyAmount', currency),
      YEAR: readAmount(values, 'yearlyAmount', currency),
      ONCE: readAmount(values, 'onceAmount', currency),
    } satisfies Record<BillingInterval, number | null>,
  };
}

/** A group of checkboxes that is one field for the API (circleIds, tierIds): errors on it land on the fieldset. */
function CheckboxGroup({ name, legend, hint, form, options, checked }: { name: string; legend: string; hint?: string; form: FormController; options: { value: string; label: string; name: string }[]; checked: (value: string) => boolean }) {
  const id = useId();
  const { error } = form.fieldState(name);
  return (
    <fieldset name={name} tabIndex={-1} className={['c-fieldset', 'c-field', error ? 'c-field--invalid' : ''].filter(Boolean).join(' ')} aria-describedby={[hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined}>
      <legend className="c-field__label">{legend}</legend>
      {hint ? (
        <p id={`${id}-hint`} className="c-field__description">
          {hint}
        </p>
      ) : null}
      {options.map((o) => (
        <Checkbox key={o.value} name={o.name} label={o.label} defaultChecked={checked(o.value)} />
      ))}
      {error ? (
        <p id={`${id}-error`} className="c-field__error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

function TierFields({ form, tier, paidCircles }: { form: FormController; tier?: TierFieldsFragment; paidCircles: Circle[] }) {
  const currency = tier?.prices[0]?.currency ?? 'usd';
  const price = (interval: BillingInterval) => {
    const p = tier?.prices.find((x) => x.interval === interval);
    return p ? toMajorInput(p.amount, p.currency) : '';
  };
  const pricesHintId = useId();
  return (
    <>
      <TextField name="name" label={t('settings.tiers.name')} required maxLength={80} defaultValue={tier?.name} autoComplete="off" {...form.fieldState('name')} />
      <TextAreaField name="description" label={t('settings.tiers.description')} rows={3} maxLength={2000} defaultValue={tier?.description} {...form.fieldState('description')} />
      <TextAreaField name="benefits" label={t('settings.tiers.benefits')} description={t('settings.tiers.benefitsHint')} rows={4} defaultValue={tier?.benefits.join('\n')} {...form.fieldState('benefits')} />
      <CheckboxGroup
        name="circleIds"
        legend={t('settings.tiers.circles')}
        hint={t('settings.tiers.circlesHint')}
        form={form}
        options={paidCircles.map((c) => ({ value: c.id, label: c.name, name: `circle:${c.id}` }))}
        // A new tier for the only paid circle starts with it ticked.
        checked={(id) => (tier ? tier.circles.some((c) => c.id === id) : paidCircles.length === 1)}
      />
      <TextField name="trialDays" label={t('settings.tiers.trialDays')} description={t('settings.tiers.trialDaysHint')} type="number" inputMode="numeric" min={0} max={730} defaultValue={String(tier?.trialDays ?? 0)} {...form.fieldState('trialDays')} />
      <TextField name="currency" label={t('settings.tiers.currency')} description={t('settings.tiers.currencyHint')} required maxLength={3} defaultValue={currency} autoComplete="off" spellCheck={false} {...form.fieldState('currency')} />
      <fieldset className="c-fieldset c-stack" aria-describedby={pricesHintId}>
        <legend>{t('settings.tiers.prices')}</legend>
        <p id={pricesHintId} className="c-field__description">
          {t('settings.tiers.pricesHint')} {tier ? t('settings.tiers.priceChangeNote') : null}
        </p>
        {INTERVALS.map((interval) => (
          <TextField
            key={interval}
            name={AMOUNT_FIELDS[interval]}
            label={t(`settings.tiers.price.${interval}`)}
            inputMode="decimal"
            autoComplete="off"
            placeholder={interval === 'MONTH' ? '9.99' : undefined}
            defaultValue={price(interval)}
            {...form.fieldState(AMOUNT_FIELDS[interval])}
          />
        ))}
      </fieldset>
    </>
  );
}

function pricesSummary(tier: TierFieldsFragment): string {
  const prices = [...tier.prices].sort((a, b) => INTERVALS.indexOf(a.interval) - INTERVALS.indexOf(b.interval));
  return prices.length ? prices.map(priceLabel).join(' · ') : t('settings.tiers.noPrices');
}

export function TierManager({ communityId, tiers, paidCircles, circleNames, archived }: { communityId: string; tiers: TierFieldsFragment[]; paidCircles: Circle[]; circleNames: Record<string, string>; archived: boolean }) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const [createKey, setCreateKey] = useState(0);
  const dialog = useDialog();
  const listRef = useRef<HTMLUListElement>(null);
  useFocusRescue(listRef, tiers);

  const create = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      const input = readTier(v, paidCircles);
      await onListFields(() =>
        browserClient.request(CreateTierDocument, {
          communityId,
          input: {
            name: input.name,
            description: input.description,
            benefits: input.benefits,
            circleIds: input.circleIds,
            trialDays: input.trialDays,
            currency: input.currency,
            monthlyAmount: input.amounts.MONTH,
            yearlyAmount: input.amounts.YEAR,
            onceAmount: input.amounts.ONCE,
          },
        }),
      );
      setNotice(t('settings.tiers.created', { name: input.name }));
      setCreateKey((k) => k + 1);
      router.refresh();
    },
    [communityId, paidCircles, router],
  );
  const createForm = useForm(create);
  const editing = tiers.find((x) => dialog.isOpen(`edit:${x.id}`));
  const archiving = tiers.find((x) => dialog.isOpen(`archive:${x.id}`));
  const canCreate = !archived && paidCircles.length > 0;

  return (
    <div className="c-stack">
      <Notice message={notice} />
      <Card title={t('settings.tiers.listTitle')} description={<p>{t('settings.tiers.priceChangeNote')}</p>}>
        {tiers.length === 0 ? (
          <EmptyState>{t('settings.tiers.empty')}</EmptyState>
        ) : (
          <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('settings.tiers.listTitle')}>
            {tiers.map((tier) => (
              <li key={tier.id} className="c-row-between" data-testid="tier-row">
                <div className="c-entry">
                  <span className="c-entry__title">
                    {tier.name} {tier.archived ? <Badge>{t('settings.tiers.archived')}</Badge> : null}
                  </span>
                  {tier.description ? <span>{tier.description}</span> : null}
                  <p className="c-entry__meta">
                    {pricesSummary(tier)}
                    {tier.trialDays > 0 ? ` · ${trialLabel(tier.trialDays)}` : null}
                  </p>
                  <p className="c-entry__meta">{t('settings.tiers.unlocks', { circles: tier.circles.map((c) => circleNames[c.id] ?? c.id).join(', ') })}</p>
                  {tier.benefits.length ? (
                    <ul className="c-points c-small" aria-label={t('tiers.benefits', { tier: tier.name })}>
                      {tier.benefits.map((b, i) => (
                        <li key={i}>{b}</li>
                      ))}
                    </ul>
                  ) : null}
                </div>
                {archived || tier.archived ? null : (
                  <div className="c-actions">
                    <Button variant="secondary" aria-label={t('settings.tiers.editLabel', { name: tier.name })} onClick={() => dialog.open(`edit:${tier.id}`)}>
                      {t('common.edit')}
                    </Button>
                    <Button variant="danger" aria-label={t('settings.tiers.archiveLabel', { name: tier.name })} onClick={() => dialog.open(`archive:${tier.id}`)}>
                      {t('settings.tiers.archive')}
                    </Button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>
      {canCreate ? (
        <Card title={t('settings.tiers.create')}>
          <Form key={createKey} controller={createForm} aria-label={t('settings.tiers.create')}>
            <TierFields form={createForm} paidCircles={paidCircles} />
            <div>
              <Button type="submit" pending={createForm.pending}>
                {t('settings.tiers.createSubmit')}
              </Button>
            </div>
          </Form>
        </Card>
      ) : null}

      <ActionDialog
        open={editing !== undefined}
        onClose={dialog.close}
        title={t('settings.tiers.editTitle', { name: editing?.name ?? '' })}
        submitLabel={t('common.save')}
        action={async (v) => {
          const tier = editing!;
          const input = readTier(v, paidCircles);
          const currentCurrency = tier.prices[0]?.currency;
          const patch: UpdateTierInput = {
            name: input.name,
            description: input.description,
            benefits: input.benefits,
            circleIds: input.circleIds,
            trialDays: input.trialDays,
          };
          if (input.currency !== currentCurrency) patch.currency = input.currency;
          for (const interval of INTERVALS) {
            const existing = tier.prices.find((p) => p.interval === interval);
            const wanted = input.amounts[interval];
            // A new amount is a new price (for new subscribers); an emptied one stops selling (0); same: untouched.
            if (wanted === null) {
              if (existing) patch[AMOUNT_FIELDS[interval]] = 0;
            } else if (!existing || existing.amount !== wanted) {
              patch[AMOUNT_FIELDS[interval]] = wanted;
            }
          }
          await onListFields(() => browserClient.request(UpdateTierDocument, { id: tier.id, input: patch }));
          dialog.close();
          setNotice(t('settings.tiers.updated', { name: input.name }));
          router.refresh();
        }}
      >
        {(form) => <TierFields form={form} tier={editing} paidCircles={paidCircles} />}
      </ActionDialog>
      <ActionDialog
        open={archiving !== undefined}
        onClose={dialog.close}
        title={t('settings.tiers.archiveTitle', { name: archiving?.name ?? '' })}
        description={<p>{t('settings.tiers.archiveHint')}</p>}
        submitLabel={t('settings.tiers.archive')}
        variant="danger"
        fallbackFocus={listRef}
        action={async () => {
          const name = archiving!.name;
          await browserClient.request(ArchiveTierDocument, { id: archiving!.id });
          dialog.close();
          setNotice(t('settings.tiers.archivedNotice', { name }));
          router.refresh();
        }}
      />
    </div>
  );
}

const DURATIONS: PromoDuration[] = ['ONCE', 'REPEATING', 'FOREVER'];

function discountLabel(p: PromoCode): string {
  if (p.percentOff !== null) return t('settings.promos.percent', { percent: p.percentOff });
  return t('settings.promos.amount', { amount: formatMoney(p.amountOff ?? 0, p.currency ?? 'usd') });
}

function durationLabel(p: PromoCode): string {
  if (p.duration === 'REPEATING') return t('settings.promos.forMonths', { count: p.durationInMonths ?? 0 });
  return t(`settings.promos.for.${p.duration}`);
}

export function PromoCodeManager({ communityId, promoCodes, tiers, archived }: { communityId: string; promoCodes: PromoCode[]; tiers: { id: string; name: string; archived: boolean }[]; archived: boolean }) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const [createKey, setCreateKey] = useState(0);
  const [kind, setKind] = useState<'percent' | 'amount'>('percent');
  const [duration, setDuration] = useState<PromoDuration>('ONCE');
  const deactivate = useAction();
  const [busyId, setBusyId] = useState<string>();
  const tableRef = useRef<HTMLTableElement>(null);
  const tierName = new Map(tiers.map((x) => [x.id, x.name]));
  const onSale = tiers.filter((x) => !x.archived);

  const create = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      const code = (v.code ?? '').trim();
      const currency = (v.currency ?? 'usd').trim().toLowerCase();
      let percentOff: number | null = null;
      let amountOff: number | null = null;
      if (kind === 'percent') percentOff = readWholeNumber(v, 'percentOff', null);
      else {
        if (!/^[a-z]{3}$/.test(currency)) throw inputError('currency', t('settings.tiers.badCurrency'));
        amountOff = readAmount(v, 'amountOff', currency);
      }
      const expires = (v.expiresAt ?? '').trim();
      // The code works until the end of that day, in the creator's own time zone.
      const expiresAt = expires ? new Date(`${expires}T23:59:59`) : null;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw inputError('expiresAt', t('settings.promos.badDate'));
      await onListFields(() =>
        browserClient.request(CreatePromoCodeDocument, {
          communityId,
          input: {
            code,
            percentOff,
            amountOff,
            currency: kind === 'amount' ? currency : null,
            duration,
            durationInMonths: duration === 'REPEATING' ? readWholeNumber(v, 'durationInMonths', null) : null,
            maxRedemptions: readWholeNumber(v, 'maxRedemptions', null),
            expiresAt: expiresAt ? expiresAt.toISOString() : null,
            tierIds: onSale.filter((x) => v[`tier:${x.id}`] === 'on').map((x) => x.id),
          },
        }),
      );
      setNotice(t('settings.promos.created', { code }));
      setCreateKey((k) => k + 1);
      setKind('percent');
      setDuration('ONCE');
      router.refresh();
    },
    [communityId, kind, duration, onSale, router],
  );
  const form = useForm(create);

  return (
    <div className="c-stack">
      <Card title={t('settings.promos.title')} description={<p>{t('settings.promos.lead')}</p>}>
        <Notice message={notice} />
        {deactivate.error ? <Alert tone="error">{deactivate.error}</Alert> : null}
        {promoCodes.length === 0 ? (
          <EmptyState>{t('settings.promos.empty')}</EmptyState>
        ) : (
          <TableScroller label={t('settings.promos.title')}>
            <table ref={tableRef} tabIndex={-1} className="c-table c-table--wide" data-testid="promo-codes">
              <caption className="c-visually-hidden">{t('settings.promos.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('settings.promos.code')}</th>
                  <th scope="col">{t('settings.promos.discount')}</th>
                  <th scope="col">{t('settings.promos.limits')}</th>
                  <th scope="col">{t('settings.promos.appliesTo')}</th>
                  <th scope="col">{t('settings.promos.status')}</th>
                  <th scope="col">
                    <span className="c-visually-hidden">{t('settings.promos.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {promoCodes.map((p) => (
                  <tr key={p.id}>
                    <th scope="row" className="c-mono">
                      {p.code}
                    </th>
                    <td>
                      {discountLabel(p)}, {durationLabel(p)}
                    </td>
                    <td>
                      {p.maxRedemptions ? t('settings.promos.uses', { count: p.maxRedemptions }) : t('settings.promos.unlimited')}
                      <br />
                      {p.expiresAt ? <LocalTime iso={p.expiresAt} message="settings.promos.expires" /> : t('settings.promos.noExpiry')}
                    </td>
                    <td>{p.tierIds.length ? p.tierIds.map((id) => tierName.get(id) ?? id).join(', ') : t('settings.promos.allTiers')}</td>
                    <td>{p.active ? <Badge tone="success">{t('settings.promos.active')}</Badge> : <Badge>{t('settings.promos.inactive')}</Badge>}</td>
                    <td>
                      {p.active && !archived ? (
                        <Button
                          variant="secondary"
                          pending={deactivate.pending && busyId === p.id}
                          disabled={deactivate.pending && busyId !== p.id}
                          aria-label={t('settings.promos.deactivateLabel', { code: p.code })}
                          onClick={() => {
                            setBusyId(p.id);
                            setNotice(undefined);
                            deactivate.run(async () => {
                              await browserClient.request(DeactivatePromoCodeDocument, { id: p.id });
                              setNotice(t('settings.promos.deactivated', { code: p.code }));
                              router.refresh();
                            });
                          }}
                        >
                          {t('settings.promos.deactivate')}
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroller>
        )}
      </Card>
      {archived ? null : (
        <Card title={t('settings.promos.create')}>
          <Form key={createKey} controller={form} aria-label={t('settings.promos.create')}>
            <TextField name="code" label={t('settings.promos.code')} description={t('settings.promos.codeHint')} required maxLength={40} autoComplete="off" spellCheck={false} {...form.fieldState('code')} />
            <RadioGroup
              name="discountKind"
              legend={t('settings.promos.kind')}
              value={kind}
              onChange={(v) => setKind(v as 'percent' | 'amount')}
              options={[
                { value: 'percent', label: t('settings.promos.kind.percent') },
                { value: 'amount', label: t('settings.promos.kind.amount') },
              ]}
            />
            {kind === 'percent' ? (
              <TextField name="percentOff" label={t('settings.promos.percentOff')} description={t('settings.promos.percentHint')} type="number" inputMode="numeric" min={1} max={100} required {...form.fieldState('percentOff')} />
            ) : (
              <>
                <TextField name="amountOff" label={t('settings.promos.amountOff')} description={t('settings.promos.amountHint')} inputMode="decimal" required autoComplete="off" {...form.fieldState('amountOff')} />
                <TextField name="currency" label={t('settings.tiers.currency')} description={t('settings.tiers.currencyHint')} required maxLength={3} defaultValue="usd" autoComplete="off" spellCheck={false} {...form.fieldState('currency')} />
              </>
            )}
            <RadioGroup
              name="duration"
              legend={t('settings.promos.duration')}
              value={duration}
              onChange={(v) => setDuration(v as PromoDuration)}
              options={DURATIONS.map((d) => ({ value: d, label: t(`settings.promos.duration.${d}`), description: t(`settings.promos.duration.${d}.hint`) }))}
              error={form.fieldState('duration').error}
            />
            {duration === 'REPEATING' ? (
              <TextField name="durationInMonths" label={t('settings.promos.months')} type="number" inputMode="numeric" min={1} max={36} required {...form.fieldState('durationInMonths')} />
            ) : null}
            <TextField name="maxRedemptions" label={t('settings.promos.maxRedemptions')} description={t('settings.promos.maxRedemptionsHint')} type="number" inputMode="numeric" min={1} {...form.fieldState('maxRedemptions')} />
            <TextField name="expiresAt" label={t('settings.promos.expiresAt')} description={t('settings.promos.expiresAtHint')} type="date" {...form.fieldState('expiresAt')} />
            {onSale.length ? (
              <CheckboxGroup
                name="tierIds"
                legend={t('settings.promos.tiers')}
                hint={t('settings.promos.tiersHint')}
                form={form}
                options={onSale.map((x) => ({ value: x.id, label: x.name, name: `tier:${x.id}` }))}
                checked={() => false}
              />
            ) : null}
            <div>
              <Button type="submit" pending={form.pending}>
                {t('settings.promos.createSubmit')}
              </Button>
            </div>
          </Form>
        </Card>
      )}
    </div>
  );
}
