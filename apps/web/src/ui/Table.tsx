import type { ReactNode } from 'react';

/**
 * A wide table that scrolls inside its own box on small screens instead of making the page scroll sideways. The
 * box is focusable and named, so keyboard users can scroll it too.
 */
export function TableScroller({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="c-table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
