'use client';
/**
 * Settings → Revenue, the parts that act: payout onboarding, dispute evidence, refunds, the ledger's CSV export and
 * (test mode) the test clock and the simulated bank. One announcement region for the page (RevenueActions) says
 * what happened; focus that would fall to the top of the page when a row's button goes goes to it instead.
 */
import { useRouter } from 'next/navigation';
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react';
import {
  AdvanceTestClockDocument,
  LedgerExportUrlDocument,
  RefundSubscriptionDocument,
  SaveDisputeEvidenceDocument,
  SimulateTestDisputeDocument,
  SimulateTestDisputeOutcomeDocument,
  StartPayoutOnboardingDocument,
  type DisputeEvidenceInput,
} from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { formatDateTime } from '@/lib/format';
import { go } from '@/lib/navigation';
import { inputError } from '@/lib/payments';
import { useAction } from '@/lib/use-action';
import { Alert, Button, Form, Notice, TextAreaField, TextField, useForm, type FormValues } from '@/ui';
import { ActionDialog, useFocusRescue } from '../settings/shared';

const NoticeContext = createContext<(message: string | undefined) => void>(() => {});

/** The page's one live region for outcomes ("Refunded.", "The test clock now reads …"). */
export function RevenueActions({ children, state }: { children: ReactNode; /** Changes whenever the page's data does (for focus rescue). */ state: string }) {
  const [notice, setNotice] = useState<string>();
  const ref = useRef<HTMLDivElement>(null);
  useFocusRescue(ref, state);
  return (
    <NoticeContext.Provider value={setNotice}>
      <div ref={ref} tabIndex={-1} className="c-stack">
        <Notice message={notice} />
        {children}
      </div>
    </NoticeContext.Provider>
  );
}

function useNotice() {
  return useContext(NoticeContext);
}

/** "Set up payouts" / "Continue onboarding": the provider's onboarding page (for the test provider, a local one). */
export function PayoutOnboardingButton({ communityId, label }: { communityId: string; label: string }) {
  const { pending, error, run } = useAction();
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <div>
        <Button
          pending={pending}
          onClick={() =>
            run(async () => {
              const { startPayoutOnboarding } = await browserClient.request(StartPayoutOnboardingDocument, { communityId });
              return go(startPayoutOnboarding);
            })
          }
        >
          {label}
        </Button>
      </div>
    </div>
  );
}

/** Downloads the whole ledger as CSV through a short-lived signed link. */
export function ExportLedgerButton({ communityId }: { communityId: string }) {
  const { pending, error, run } = useAction();
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <div>
        <Button
          variant="secondary"
          pending={pending}
          onClick={() =>
            run(async () => {
              const { ledgerExportUrl } = await browserClient.request(LedgerExportUrlDocument, { communityId });
              window.location.assign(ledgerExportUrl);
            })
          }
        >
          {t('settings.ledger.export')}
        </Button>
      </div>
    </div>
  );
}

/** Refund a subscription's latest charge in full (after a confirmation); its access ends. */
export function RefundButton({ subscriptionId, person, tier }: { subscriptionId: string; person: string; tier: string }) {
  const router = useRouter();
  const notify = useNotice();
  const [open, setOpen] = useState(false);
  const close = useCallback(() => setOpen(false), []);
  return (
    <>
      <Button variant="danger" aria-label={t('settings.subs.refundLabel', { tier, person })} onClick={() => setOpen(true)}>
        {t('settings.subs.refund')}
      </Button>
      <ActionDialog
        open={open}
        onClose={close}
        title={t('settings.subs.refundTitle', { person, tier })}
        description={<p>{t('settings.subs.refundHint')}</p>}
        submitLabel={t('settings.subs.refundSubmit')}
        variant="danger"
        action={async () => {
          notify(undefined);
          await browserClient.request(RefundSubscriptionDocument, { id: subscriptionId });
          setOpen(false);
          notify(t('settings.subs.refunded', { person, tier }));
          router.refresh();
        }}
      />
    </>
  );
}

/** A small button that calls the API, announces the outcome and re-reads the page. */
function ActButton({ label, ariaLabel, variant = 'secondary', work }: { label: string; ariaLabel?: string; variant?: 'secondary' | 'danger' | 'primary'; work: () => Promise<string> }) {
  const router = useRouter();
  const notify = useNotice();
  const { pending, error, run } = useAction();
  return (
    <span className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <Button
        variant={variant}
        pending={pending}
        aria-label={ariaLabel}
        onClick={() =>
          run(async () => {
            notify(undefined);
            notify(await work());
            router.refresh();
          })
        }
      >
        {label}
      </Button>
    </span>
  );
}

/** Test mode: the buyer's bank opens a dispute on the subscription's latest charge. */
export function SimulateDisputeButton({ subscriptionId, person, tier }: { subscriptionId: string; person: string; tier: string }) {
  return (
    <ActButton
      label={t('settings.testControls.simulateDispute')}
      ariaLabel={t('settings.testControls.simulateDisputeLabel', { person, tier })}
      work={async () => {
        await browserClient.request(SimulateTestDisputeDocument, { subscriptionId });
        return t('settings.testControls.disputeOpened', { person });
      }}
    />
  );
}

/** Test mode: the bank decides a dispute. */
export function DisputeOutcomeButtons({ disputeId, what }: { disputeId: string; what: string }) {
  return (
    <div className="c-actions">
      {([true, false] as const).map((won) => (
        <ActButton
          key={String(won)}
          label={won ? t('settings.testControls.won') : t('settings.testControls.lost')}
          ariaLabel={t(won ? 'settings.testControls.wonLabel' : 'settings.testControls.lostLabel', { what })}
          work={async () => {
            const { simulateTestDisputeOutcome } = await browserClient.request(SimulateTestDisputeOutcomeDocument, { disputeId, won });
            return t('settings.testControls.decided', { status: t(`settings.disputes.status.${simulateTestDisputeOutcome.status}`) });
          }}
        />
      ))}
    </div>
  );
}

export const EVIDENCE_FIELDS = [
  'productDescription',
  'serviceDate',
  'customerName',
  'customerEmailAddress',
  'accessActivityLog',
  'customerCommunication',
  'refundPolicy',
  'cancellationPolicy',
  'uncategorizedText',
] as const satisfies readonly (keyof DisputeEvidenceInput)[];
const SHORT: readonly string[] = ['serviceDate', 'customerName', 'customerEmailAddress'];

function parseEvidence(json: string): Record<string, string> {
  try {
    const value: unknown = JSON.parse(json);
    if (!value || typeof value !== 'object') return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** The evidence packet (prefilled from what the service assembled), saved as a draft or submitted to the bank. */
export function DisputeEvidenceForm({ disputeId, evidence, title }: { disputeId: string; evidence: string; title: string }) {
  const router = useRouter();
  const notify = useNotice();
  const submit = useRef(false);
  const initial = parseEvidence(evidence);
  const save = useCallback(
    async (v: FormValues) => {
      notify(undefined);
      const input: DisputeEvidenceInput = {};
      for (const f of EVIDENCE_FIELDS) input[f] = v[f] ?? '';
      if (submit.current && !EVIDENCE_FIELDS.some((f) => (input[f] ?? '').trim())) throw inputError('productDescription', t('settings.disputes.emptyEvidence'));
      const submitting = submit.current;
      await browserClient.request(SaveDisputeEvidenceDocument, { id: disputeId, evidence: input, submit: submitting });
      notify(submitting ? t('settings.disputes.submittedNotice') : t('settings.disputes.saved'));
      router.refresh();
    },
    [disputeId, notify, router],
  );
  const form = useForm(save);
  return (
    <Form controller={form} aria-label={title}>
      <p className="c-muted">{t('settings.disputes.evidenceHint')}</p>
      {EVIDENCE_FIELDS.map((f) =>
        SHORT.includes(f) ? (
          <TextField key={f} name={f} label={t(`settings.disputes.field.${f}`)} defaultValue={initial[f] ?? ''} maxLength={20000} {...form.fieldState(f)} />
        ) : (
          <TextAreaField key={f} name={f} label={t(`settings.disputes.field.${f}`)} defaultValue={initial[f] ?? ''} rows={f === 'accessActivityLog' || f === 'uncategorizedText' ? 5 : 3} maxLength={20000} {...form.fieldState(f)} />
        ),
      )}
      <div className="c-actions">
        <Button type="submit" variant="secondary" pending={form.pending && !submit.current} disabled={form.pending && submit.current} onClick={() => (submit.current = false)}>
          {t('settings.disputes.save')}
        </Button>
        <Button type="submit" pending={form.pending && submit.current} disabled={form.pending && !submit.current} onClick={() => (submit.current = true)}>
          {t('settings.disputes.submit')}
        </Button>
      </div>
    </Form>
  );
}

/** Test mode: move the test clock forward (renewals, period ends and payouts come due). */
export function AdvanceClockForm({ communityId }: { communityId: string }) {
  const router = useRouter();
  const notify = useNotice();
  const advance = useCallback(
    async (v: FormValues) => {
      notify(undefined);
      const raw = (v.days ?? '').trim();
      if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 400) throw inputError('days', t('settings.testControls.badDays'));
      const { advanceTestClock } = await browserClient.request(AdvanceTestClockDocument, { communityId, seconds: Number(raw) * 86_400 });
      notify(t('settings.testControls.advanced', { time: formatDateTime(advanceTestClock) }));
      router.refresh();
    },
    [communityId, notify, router],
  );
  const form = useForm(advance, { seconds: 'days' });
  return (
    <Form controller={form} aria-label={t('settings.testControls.clock')}>
      <TextField name="days" label={t('settings.testControls.days')} description={t('settings.testControls.daysHint')} type="number" inputMode="numeric" min={1} max={400} required defaultValue="1" {...form.fieldState('days')} />
      <div>
        <Button type="submit" pending={form.pending}>
          {t('settings.testControls.advance')}
        </Button>
      </div>
    </Form>
  );
}
