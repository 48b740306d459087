'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { t } from '@/i18n';

/** The settings sections the viewer may open, the current one marked. */
export function SettingsNav({ slug, communityName, sections }: { slug: string; communityName: string; sections: { key: string; label: string }[] }) {
  const pathname = usePathname();
  return (
    <nav className="c-settings__nav c-card" aria-label={t('settings.nav.label', { name: communityName })}>
      <ul>
        {sections.map((s) => {
          const href = `/c/${slug}/settings/${s.key}`;
          return (
            <li key={s.key}>
              <Link href={href} aria-current={pathname === href || pathname.startsWith(`${href}/`) ? 'page' : undefined}>
                {s.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
