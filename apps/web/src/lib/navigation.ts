'use client';
/** A full page load, so the header (my communities) and every server-rendered part see the change. */
export function go(path: string): 'navigating' {
  window.location.assign(path);
  return 'navigating';
}
