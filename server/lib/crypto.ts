import crypto from 'node:crypto';

/**
 * AES-256-GCM for free text at rest (situation, summaries, notes).
 * Stored as "v1.<iv>.<tag>.<ciphertext>" in base64url; a tampered value fails to decrypt.
 */
export interface Cipher {
  encrypt(plain: string): string;
  decrypt(stored: string): string;
  encryptOptional(plain: string | null | undefined): string | null;
  decryptOptional(stored: string | null | undefined): string | null;
}

export function createCipher(hexKey: string): Cipher {
  const key = Buffer.from(hexKey, 'hex');
  if (key.length !== 32) throw new Error('The encryption key must be 32 bytes (64 hex characters)');
  const encrypt = (plain: string): string => {
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      c.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  };
  const decrypt = (stored: string): string => {
    const [version, iv, tag, body] = stored.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined)
      throw new Error('Unreadable encrypted value');
    const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
  };
  return {
    encrypt,
    decrypt,
    encryptOptional: (p) => (p == null || p === '' ? null : encrypt(p)),
    decryptOptional: (s) => (s == null ? null : decrypt(s)),
  };
}
