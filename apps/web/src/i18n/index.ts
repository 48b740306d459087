/**
 * The i18n layer: a typed `t(key, vars)` over the message catalogues. Only English exists today; a new locale is a
 * `Catalogue` file plus an entry in `catalogues`. Works in server and client components alike (no context needed
 * while there is one locale per instance).
 */
import { en, type Catalogue, type MessageKey } from './en.ts';

export type { MessageKey };
export type Locale = 'en';

const catalogues: Record<Locale, Catalogue> = { en };
export const locale: Locale = 'en';

/** Placeholder names in a message literal: 'Hi {name}, {count}' -> 'name' | 'count'. */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;
type VarsArg<K extends MessageKey> = [Placeholders<(typeof en)[K]>] extends [never] ? [] : [vars: Record<Placeholders<(typeof en)[K]>, string | number>];

export function t<K extends MessageKey>(key: K, ...[vars]: VarsArg<K>): string {
  const template: string = catalogues[locale][key];
  if (!vars) return template;
  const values = vars as Record<string, string | number>;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** True when `key` names a message (for keys built from server codes). */
export function hasMessage(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}
