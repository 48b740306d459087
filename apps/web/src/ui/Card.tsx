import { useId, type ReactNode } from 'react';

/** A titled section. The title is a heading that also names the region for assistive technology. */
export function Card({ title, description, children, headingLevel = 2, className }: {
  title?: string;
  description?: ReactNode;
  children?: ReactNode;
  headingLevel?: 1 | 2 | 3;
  className?: string;
}) {
  const id = useId();
  const Heading = `h${headingLevel}` as const;
  return (
    <section className={['c-card', className].filter(Boolean).join(' ')} aria-labelledby={title ? id : undefined}>
      {title ? (
        <Heading id={id} className="c-card__title">
          {title}
        </Heading>
      ) : null}
      {description ? <div className="c-card__description">{description}</div> : null}
      {children}
    </section>
  );
}

/** Shown where a list has nothing in it. */
export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="c-empty">{children}</p>;
}

/** A small inline label ("Verified", "This device"). */
export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'success' | 'warning'; children: ReactNode }) {
  return <span className={`c-badge c-badge--${tone}`}>{children}</span>;
}
