import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { CommunitySwitcher } from '@/components/CommunitySwitcher';
import { NavLink } from '@/components/NavLink';
import { t, locale } from '@/i18n';
import { loadMyCommunities } from '@/lib/community';
import { getViewer } from '@/lib/server-api';
import './globals.css';

// Every page depends on who is asking (the header at least): render per request, never at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { default: t('app.name'), template: `%s · ${t('app.name')}` },
  description: t('app.tagline'),
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#ffffff' },
    { media: '(prefers-color-scheme: dark)', color: '#161b22' },
  ],
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The header must not take the whole page down when the API is unreachable; the page shows that error itself.
  const viewer = await getViewer().catch(() => null);
  const myCommunities = viewer ? await loadMyCommunities() : [];
  return (
    <html lang={locale}>
      <body>
        <a href="#main" className="c-skip-link">
          {t('app.skipToContent')}
        </a>
        <header className="c-header">
          <div className="c-header__inner">
            <Link href="/" className="c-brand">
              {t('app.name')}
            </Link>
            <nav aria-label={t('nav.label')} className="c-nav">
              <ul>
                <li>
                  <NavLink href="/communities">{t('nav.communities')}</NavLink>
                </li>
                {viewer ? (
                  <>
                    <li>
                      <CommunitySwitcher communities={myCommunities} />
                    </li>
                    <li>
                      <NavLink href="/messages">{t('nav.messages')}</NavLink>
                    </li>
                    <li className="c-nav__who">{t('nav.signedInAs', { handle: viewer.user.handle })}</li>
                    <li>
                      <NavLink href="/account">{t('nav.account')}</NavLink>
                    </li>
                    {viewer.isInstanceAdmin ? (
                      <li>
                        <NavLink href="/admin/mail">{t('nav.mailOutbox')}</NavLink>
                      </li>
                    ) : null}
                  </>
                ) : (
                  <>
                    <li>
                      <NavLink href="/login">{t('nav.logIn')}</NavLink>
                    </li>
                    <li>
                      <NavLink href="/signup">{t('nav.signUp')}</NavLink>
                    </li>
                  </>
                )}
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" className="c-main" tabIndex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}
