import type { Request } from 'express';
import { IDLE_TIMEOUT_MS } from '../auth/session';
import { withoutControlCharacters } from '../lib/validate';
import type { FormState } from './views/components';
import type { PageContext } from './views/layout';

/**
 * What was typed in a form the app refused without reading it, kept in the session for the
 * form's page. A social worker types a contact on a phone in the street, the session ends
 * meanwhile (30 minutes idle): the form posted then is not lost. The expired session's form is
 * kept in the new anonymous session, carried across the login (server/auth/login.ts), and its
 * page, once signed in again, fills its form with it, or shows it read-only to be copied.
 */
export interface KeptForm {
  /** The address the form was posted to. */
  action: string;
  /** The page the form is on, where it is given back. */
  page: string;
  /**
   * Why it was refused: the session had ended, the form's token was another session's, a
   * field held a control character (`invalid`, which the values no longer hold), or its person
   * file was merged into another meanwhile (`action` and `page` then name the kept file).
   */
  reason: 'session' | 'token' | 'control_character' | 'merged';
  /** When it was kept (ms since the epoch, as the session's own times). */
  at: number;
  /** Every posted text, by field: never the form's token, nor a password, code or secret. */
  values: Record<string, string>;
  /** The fields where text was typed, with their labels: what the page shows read-only. */
  text: [name: string, label: string][];
  /** The field that held a control character, with its label when the form has one. */
  invalid?: [name: string, label: string | null];
  /** A message by field, shown next to it when the page fills its form again. */
  errors?: Record<string, string>;
  /** Set on the page's copy when the page filled its form again: that form's anchor. */
  restoredAt?: string;
}

/** Fields never kept, whatever the form: the token, and anything secret. */
const NEVER_KEPT = /^_csrf$|pass|secret|token|totp/i;
/**
 * Fields kept only while the author is known (a refused token, a control character): a form of
 * an ended session is given to whoever signs in next on that browser, and a private note is
 * for its author's eyes only (a colleague signing in on a shared phone would see the draft).
 */
const AUTHOR_ONLY = /^privateNote$/;
/** Bounds on what a session holds: well above any form's own limits (a contact: 2 × 10 000). */
const KEPT_MAX_CHARS = 40_000;
const KEPT_MAX_FIELDS = 100;
/** A kept form is given back within the idle timeout of the session it was kept in. */
const KEPT_FOR_MS = IDLE_TIMEOUT_MS;

/** What a field that held a control character says, next to it, once the character is gone. */
const CONTROL_CHARACTER_REMOVED =
  'Ce champ contenait un caractère invisible (souvent venu d’un copier-coller), retiré ici : vérifiez le texte';

/**
 * The form of this request as kept for `page`, or null when nothing was typed in its text fields
 * (`text`, with their `labels`), or when it is larger than a session should hold. A form refused
 * for a control character in `invalid` is kept without any control character, the field said.
 */
export function keptForm(
  req: Request,
  page: string,
  reason: KeptForm['reason'],
  fields: { labels: Readonly<Record<string, string>>; text: readonly string[] },
  invalid?: string,
): KeptForm | null {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  let size = 0;
  for (const [name, raw] of Object.entries(body)) {
    if (NEVER_KEPT.test(name)) continue;
    if (reason === 'session' && AUTHOR_ONLY.test(name)) continue;
    // Boxes ticked under one name come as a list: kept as the pages show them, comma-separated.
    const value =
      typeof raw === 'string'
        ? raw
        : Array.isArray(raw) && raw.every((v) => typeof v === 'string')
          ? raw.join(',')
          : null;
    if (value === null) continue;
    size += name.length + value.length;
    if (size > KEPT_MAX_CHARS || Object.keys(values).length >= KEPT_MAX_FIELDS) return null;
    // A textarea's CRLF as the forms read it (formValues).
    const text = value.replace(/\r\n/g, '\n');
    values[name] = invalid === undefined ? text : withoutControlCharacters(text);
  }
  const text = fields.text
    .filter((name) => values[name]?.trim())
    .map((name): [string, string] => [name, fields.labels[name] ?? name]);
  if (text.length === 0) return null;
  const kept: KeptForm = { action: req.path, page, reason, at: Date.now(), values, text };
  if (invalid === undefined) return kept;
  return {
    ...kept,
    invalid: [invalid, fields.labels[invalid] ?? null],
    errors: { [invalid]: CONTROL_CHARACTER_REMOVED },
  };
}

/**
 * The form kept for the page this GET request shows, taken out of the session: given back once,
 * and only within the idle timeout (a page opened hours later does not fill itself). One past
 * that time leaves the session at the next page shown, whatever it is: a form whose page is
 * never opened again is not carried in the session until it ends.
 */
export function takeKeptForm(req: Request): KeptForm | null {
  const kept = req.session?.keptForm;
  if (!kept) return null;
  const fresh = Date.now() - kept.at < KEPT_FOR_MS;
  if (fresh && (req.method !== 'GET' || kept.page !== req.originalUrl)) return null;
  delete req.session.keptForm;
  return fresh ? kept : null;
}

/**
 * What was typed, for the page's form posted to `action` (at `#anchor` on the page), when the
 * form kept is that one; the page then says it is back in the form rather than showing it.
 */
export function restoredForm(
  ctx: PageContext,
  action: string,
  anchor: string,
): FormState | undefined {
  const kept = ctx.kept;
  if (!kept || kept.action !== action) return undefined;
  kept.restoredAt = anchor;
  return { values: kept.values, errors: kept.errors ?? {} };
}
