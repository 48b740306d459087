import Link from 'next/link';
import { t } from '@/i18n';

/**
 * Search a community's members by name or handle. A plain GET form: the search is in the address, works before
 * scripts load, and the back button undoes it. `clearHref` is the same page without a search.
 */
export function MemberSearchForm({ id, query, clearHref }: { id: string; query: string; clearHref: string }) {
  return (
    <form method="get" role="search" className="c-search" aria-label={t('members.searchRegion')}>
      <div className="c-field">
        <label htmlFor={id} className="c-field__label">
          {t('members.search')}
        </label>
        <p id={`${id}-hint`} className="c-field__description">
          {t('members.searchHint')}
        </p>
        <input id={id} name="q" type="search" defaultValue={query} maxLength={64} aria-describedby={`${id}-hint`} className="c-field__input" />
      </div>
      <button type="submit" className="c-button c-button--secondary">
        {t('members.submit')}
      </button>
      {query ? (
        <Link href={clearHref} className="c-button c-button--quiet">
          {t('members.clear')}
        </Link>
      ) : null}
    </form>
  );
}
