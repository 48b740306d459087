import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { CreateCommunityForm } from '@/components/CommunityActions';
import { t } from '@/i18n';
import { publicBaseUrl } from '@/lib/community';
import { getViewer } from '@/lib/server-api';
import { Card } from '@/ui';

export const metadata: Metadata = { title: t('newCommunity.title') };

export default async function NewCommunityPage() {
  if (!(await getViewer())) redirect('/login?next=/communities/new');
  return (
    <div className="c-narrow">
      <Card title={t('newCommunity.title')} headingLevel={1} description={t('newCommunity.lead')}>
        <CreateCommunityForm baseUrl={await publicBaseUrl()} />
      </Card>
    </div>
  );
}
