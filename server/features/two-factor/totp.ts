import crypto from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app reads it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
const ISSUER = 'aller-vers';

const totpOf = (base32Secret: string, label = '') =>
  new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(base32Secret),
  });

/** A new secret of 160 bits (RFC 4226's recommendation), in base32 as apps take it typed in. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

/** The `otpauth://` address an authenticator app reads from the QR code. */
export const otpauthUri = (base32Secret: string, accountEmail: string): string =>
  totpOf(base32Secret, accountEmail).toString();

/**
 * The QR code of the address as an SVG data URI, drawn on the server (no script, no CDN). qrcode
 * (and the PNG encoder it brings) is loaded at the first enrolment, not at start.
 */
export async function qrSvgDataUri(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/**
 * The time step of `code` if it is valid at `now`, one step of clock drift either way allowed;
 * null otherwise. The caller refuses a step it has already accepted (no replay).
 */
export function totpStep(base32Secret: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const timestamp = now.getTime();
  const delta = totpOf(base32Secret).validate({ token: code, timestamp, window: 1 });
  if (delta === null) return null;
  return Math.floor(timestamp / 1000 / PERIOD_SECONDS) + delta;
}

/** The code an app shows at `at`: for tests and the demo, never sent anywhere. */
export const totpCode = (base32Secret: string, at: Date): string =>
  totpOf(base32Secret).generate({ timestamp: at.getTime() });

/** Recovery codes: 80 random bits each, written `xxxx-xxxx-xxxx-xxxx` in lowercase base32. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
export function newRecoveryCode(): string {
  const bytes = crypto.randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

/** A recovery code as typed (spaces, dashes, capitals) to the form it was hashed in. */
export const normaliseRecoveryCode = (typed: string): string =>
  typed.toLowerCase().replace(/[\s-]/g, '');

export const hashRecoveryCode = (code: string): string =>
  crypto.createHash('sha256').update(normaliseRecoveryCode(code)).digest('hex');
