'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { t } from '@/i18n';
import { CommunityAvatar } from '@/ui';

export interface CommunityLink {
  id: string;
  slug: string;
  name: string;
  avatarUrl: string | null;
}

/**
 * "My communities" in the header: a disclosure (native <details>, so it opens with Enter or Space and needs no
 * script) listing the signed-in person's communities plus "Create a community". It closes on navigation and on
 * Escape, returning focus to its toggle.
 */
export function CommunitySwitcher({ communities }: { communities: CommunityLink[] }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const pathname = usePathname();

  useEffect(() => {
    if (ref.current) ref.current.open = false;
  }, [pathname]);

  useEffect(() => {
    const details = ref.current;
    if (!details) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || !details.open) return;
      details.open = false;
      details.querySelector('summary')?.focus();
    };
    const onOutside = (event: MouseEvent) => {
      if (details.open && !details.contains(event.target as Node)) details.open = false;
    };
    details.addEventListener('keydown', onKey);
    document.addEventListener('click', onOutside);
    return () => {
      details.removeEventListener('keydown', onKey);
      document.removeEventListener('click', onOutside);
    };
  }, []);

  return (
    <details ref={ref} className="c-menu">
      <summary>{t('nav.myCommunities')}</summary>
      <div className="c-menu__panel">
        {communities.length === 0 ? <p className="c-muted">{t('nav.noCommunities')}</p> : null}
        <ul aria-label={t('nav.myCommunities')}>
          {communities.map((c) => (
            <li key={c.id}>
              <Link href={`/c/${c.slug}`} className="c-menu__community" aria-current={pathname === `/c/${c.slug}` ? 'page' : undefined}>
                <CommunityAvatar name={c.name} url={c.avatarUrl} size={24} />
                <span>{c.name}</span>
              </Link>
            </li>
          ))}
          <li>
            <Link href="/communities/new">{t('nav.createCommunity')}</Link>
          </li>
        </ul>
      </div>
    </details>
  );
}
