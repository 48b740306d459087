import Link from 'next/link';
import type { ReactNode } from 'react';
import { SettingsNav } from '@/components/settings/SettingsNav';
import { t } from '@/i18n';
import { requireSettings } from '@/lib/settings';

// No loading.tsx under settings on purpose: a streamed loading state would commit a 200 before a section can
// answer 404 to someone who may not open it.
export default async function SettingsLayout({ children, params }: { children: ReactNode; params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { community, sections } = await requireSettings(slug, null);
  return (
    <div className="c-stack">
      <p>
        <Link href={`/c/${community.slug}`}>← {t('community.back', { name: community.name })}</Link>
      </p>
      <div className="c-settings">
        <SettingsNav slug={community.slug} communityName={community.name} sections={sections.map((key) => ({ key, label: t(`settings.nav.${key}`) }))} />
        <div className="c-settings__content c-stack">{children}</div>
      </div>
    </div>
  );
}
