'use client';
/**
 * The test checkout's payment form: card number, the terms, an optional promotion code and tax ID. Paying sends the
 * browser where the API says (back to the circle); a declined card or a refused code shows the API's message.
 */
import { useCallback, useState } from 'react';
import { CompleteTestCheckoutDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { go } from '@/lib/navigation';
import { inputError } from '@/lib/payments';
import { Button, Checkbox, Form, SelectField, TextField, useForm, type FormValues } from '@/ui';

const TAX_ID_TYPES = ['eu_vat', 'gb_vat', 'us_ein', 'ca_bn', 'au_abn'] as const;

export function TestCheckoutForm({ checkoutId, amountLabel, trial, requireTerms, allowPromotionCodes, cancelUrl }: {
  checkoutId: string;
  /** What is charged now (after a code applied up front), formatted. */
  amountLabel: string;
  trial: boolean;
  requireTerms: boolean;
  allowPromotionCodes: boolean;
  cancelUrl: string;
}) {
  const [taxType, setTaxType] = useState('');
  // A code typed here is checked and taken off when paying: until then the amount it leaves is not known.
  const [typedCode, setTypedCode] = useState('');
  const pay = useCallback(
    async (v: FormValues) => {
      const acceptTerms = v.acceptTerms === 'on';
      if (requireTerms && !acceptTerms) throw inputError('acceptTerms', t('checkout.termsRequired'));
      const taxIdType = (v.taxIdType ?? '').trim();
      const taxIdValue = (v.taxIdValue ?? '').trim();
      if (taxIdType && !taxIdValue) throw inputError('taxIdValue', t('checkout.taxIdMissing'));
      const { completeTestCheckout: next } = await browserClient.request(CompleteTestCheckoutDocument, {
        input: {
          checkoutId,
          cardNumber: v.cardNumber ?? '',
          acceptTerms,
          promotionCode: (v.promotionCode ?? '').trim() || null,
          taxIdType: taxIdType || null,
          taxIdValue: taxIdType ? taxIdValue : null,
        },
      });
      return go(next);
    },
    [checkoutId, requireTerms],
  );
  const form = useForm(pay, { promoCode: 'promotionCode' });
  return (
    <Form controller={form} aria-label={t('checkout.payment')}>
      <TextField
        name="cardNumber"
        label={t('checkout.cardNumber')}
        description={t('checkout.cardHint')}
        required
        inputMode="numeric"
        autoComplete="cc-number"
        maxLength={23}
        spellCheck={false}
        {...form.fieldState('cardNumber')}
      />
      {allowPromotionCodes ? (
        <TextField
          name="promotionCode"
          label={t('checkout.promotionCode')}
          description={t('checkout.promotionCodeHint')}
          autoComplete="off"
          spellCheck={false}
          maxLength={40}
          value={typedCode}
          onChange={(e) => setTypedCode(e.target.value)}
          {...form.fieldState('promotionCode')}
        />
      ) : null}
      <SelectField
        name="taxIdType"
        label={t('checkout.taxIdType')}
        description={t('checkout.taxIdHint')}
        value={taxType}
        onChange={(e) => setTaxType(e.target.value)}
        options={[{ value: '', label: t('checkout.taxIdType.none') }, ...TAX_ID_TYPES.map((type) => ({ value: type, label: t(`checkout.taxIdType.${type}`) }))]}
        {...form.fieldState('taxIdType')}
      />
      {taxType ? <TextField name="taxIdValue" label={t('checkout.taxIdValue')} required autoComplete="off" spellCheck={false} maxLength={32} {...form.fieldState('taxIdValue')} /> : null}
      {requireTerms ? <Checkbox name="acceptTerms" label={t('checkout.acceptTerms')} description={t('checkout.termsHint')} aria-required="true" error={form.fieldState('acceptTerms').error} /> : null}
      <div className="c-actions">
        <Button type="submit" pending={form.pending}>
          {trial ? t('checkout.startTrial') : typedCode.trim() ? t('checkout.payWithCode') : t('checkout.pay', { amount: amountLabel })}
        </Button>
        <a href={cancelUrl} className="c-button c-button--secondary">
          {t('checkout.cancel')}
        </a>
      </div>
    </Form>
  );
}
