import type { MailMessage } from '@circles/platform';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function message(to: string, subject: string, lines: string[], link?: { url: string; label: string }): MailMessage {
  const text = [...lines, ...(link ? ['', `${link.label}: ${link.url}`] : [])].join('\n');
  const html = [...lines.map((l) => `<p>${esc(l)}</p>`), ...(link ? [`<p><a href="${esc(link.url)}">${esc(link.label)}</a></p>`] : [])].join('\n');
  return { to, subject, text, html };
}

export const emails = {
  verify: (to: string, name: string, url: string) =>
    message(to, 'Verify your email for Circles', [`Hi ${name},`, 'Confirm this is your email address to finish setting up your Circles account. The link works for 24 hours.'], { url, label: 'Verify email' }),
  reset: (to: string, name: string, url: string) =>
    message(
      to,
      'Reset your Circles password',
      [`Hi ${name},`, 'Someone (hopefully you) asked to reset your password. The link works once, for 1 hour. If it was not you, ignore this email: your password stays the same.'],
      { url, label: 'Choose a new password' },
    ),
  passwordChanged: (to: string, name: string) =>
    message(to, 'Your Circles password was changed', [`Hi ${name},`, 'Your password was just changed and every session was signed out. If this was not you, reset your password now.']),
};
