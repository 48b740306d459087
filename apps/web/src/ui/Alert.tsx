import type { ReactNode } from 'react';

export type AlertTone = 'error' | 'success' | 'info' | 'warning';

/**
 * A message box. Errors and warnings use role="alert" (announced at once); success and info use role="status"
 * (announced politely).
 */
export function Alert({ tone = 'info', title, children, id }: { tone?: AlertTone; title?: string; children?: ReactNode; id?: string }) {
  const role = tone === 'error' || tone === 'warning' ? 'alert' : 'status';
  return (
    <div id={id} role={role} className={`c-alert c-alert--${tone}`}>
      {title ? <p className="c-alert__title">{title}</p> : null}
      {children ? <div className="c-alert__body">{children}</div> : null}
    </div>
  );
}
