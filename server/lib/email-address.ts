import { z } from 'zod';

/**
 * An email address as people have them: the dot-atom form of RFC 5322 (section 3.2.3) on the
 * left, so every atext character counts (`a~b@`, `o'brien@`, `a+tag@`, `{x}@`), and a domain name
 * of letters, digits and hyphens with a top-level domain on the right (RFC 1035 labels, 1 to 63
 * characters, no hyphen at either end). Left out on purpose, as mail to them would not be
 * delivered by our SMTP relay: quoted local parts, address literals (`a@[1.2.3.4]`), dotless
 * domains (`a@localhost`) and non-ASCII addresses.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const EMAIL_ADDRESS = new RegExp(
  `^(?=[^@]{1,64}@)${ATEXT}+(?:\\.${ATEXT}+)*@(?:${LABEL}\\.)+[A-Za-z]{2,63}$`,
);

export const EMAIL_MESSAGE = 'must be an email address';

/** Whether `s` (trimmed by the caller) is an email address we accept: the pages ask this. */
export function isEmailAddress(s: string): boolean {
  return s.length <= 254 && EMAIL_ADDRESS.test(s);
}

/**
 * The one email field of the API, the pages and the CLI: trimmed, at most 254 characters (RFC
 * 5321), then EMAIL_ADDRESS. Documented as format email with its pattern.
 */
export const emailAddress = () =>
  z
    .string()
    .trim()
    .max(254, 'must be at most 254 characters')
    .pipe(z.email({ pattern: EMAIL_ADDRESS, message: EMAIL_MESSAGE }))
    .meta({ format: 'email', pattern: EMAIL_ADDRESS.source });
