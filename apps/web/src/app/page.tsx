import Link from 'next/link';
import { t } from '@/i18n';
import { getViewer } from '@/lib/server-api';

export default async function HomePage() {
  const viewer = await getViewer();
  return (
    <div className="c-hero">
      <h1>{t('home.title')}</h1>
      <p className="c-hero__lead">{t('home.lead')}</p>
      <ul className="c-points">
        <li>{t('home.point.own')}</li>
        <li>{t('home.point.open')}</li>
        <li>{t('home.point.private')}</li>
      </ul>
      {viewer ? (
        <div className="c-stack">
          <p>{t('home.welcomeBack', { name: viewer.user.displayName })}</p>
          <p className="c-row">
            <Link href="/account" className="c-button c-button--primary">
              {t('home.cta.account')}
            </Link>
            <Link href="/communities" className="c-button c-button--secondary">
              {t('home.cta.communities')}
            </Link>
          </p>
        </div>
      ) : (
        <p className="c-row">
          <Link href="/signup" className="c-button c-button--primary">
            {t('home.cta.signUp')}
          </Link>
          <Link href="/login" className="c-button c-button--secondary">
            {t('home.cta.logIn')}
          </Link>
          <Link href="/communities" className="c-button c-button--secondary">
            {t('home.cta.communities')}
          </Link>
        </p>
      )}
    </div>
  );
}
