'use client';

import type { CommunityVisibility, JoinPolicy } from '@circles/client';
import { t } from '@/i18n';
import { RadioGroup } from '@/ui';

const VISIBILITIES: CommunityVisibility[] = ['LISTED', 'UNLISTED', 'PRIVATE'];
const JOIN_POLICIES: JoinPolicy[] = ['OPEN', 'APPROVAL', 'INVITE'];

/** Who can see a community and how people get in: the same two choices when creating one and in its settings. */
export function CommunityPolicyFields(props: {
  defaultVisibility: string;
  joinPolicy: string;
  onJoinPolicyChange: (value: string) => void;
  errors: { visibility?: string; joinPolicy?: string };
}) {
  return (
    <>
      <RadioGroup
        name="visibility"
        legend={t('field.visibility')}
        defaultValue={props.defaultVisibility}
        options={VISIBILITIES.map((v) => ({ value: v, label: t(`visibility.${v}`), description: t(`visibility.${v}.hint`) }))}
        error={props.errors.visibility}
      />
      <RadioGroup
        name="joinPolicy"
        legend={t('field.joinPolicy')}
        value={props.joinPolicy}
        onChange={props.onJoinPolicyChange}
        options={JOIN_POLICIES.map((p) => ({ value: p, label: t(`joinPolicy.${p}`), description: t(`joinPolicy.${p}.hint`) }))}
        error={props.errors.joinPolicy}
      />
    </>
  );
}
