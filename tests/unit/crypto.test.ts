import { createCipher } from '../../server/lib/crypto';

const KEY = 'a1'.repeat(32);

describe('AES-256-GCM cipher for free text at rest', () => {
  const cipher = createCipher(KEY);

  it('round-trips text, accents and emoji, with a fresh IV every time', () => {
    const plain = 'Hélène dort dehors 🙂 depuis mars';
    const a = cipher.encrypt(plain);
    const b = cipher.encrypt(plain);
    expect(a).not.toBe(b);
    expect(a.startsWith('v1.')).toBe(true);
    expect(a).not.toContain('dehors');
    expect(cipher.decrypt(a)).toBe(plain);
    expect(cipher.decrypt(b)).toBe(plain);
  });

  it('when a ciphertext byte is changed, then decryption fails', () => {
    const stored = cipher.encrypt('Situation sensible');
    const [v, iv, tag, body] = stored.split('.');
    const bytes = Buffer.from(body, 'base64url');
    bytes[0] ^= 0x01;
    const tampered = [v, iv, tag, bytes.toString('base64url')].join('.');
    expect(() => cipher.decrypt(tampered)).toThrow();
  });

  it('when the tag or the IV is changed, then decryption fails', () => {
    const stored = cipher.encrypt('Situation sensible');
    const [v, iv, tag, body] = stored.split('.');
    const flip = (s: string) => {
      const b = Buffer.from(s, 'base64url');
      b[b.length - 1] ^= 0x80;
      return b.toString('base64url');
    };
    expect(() => cipher.decrypt([v, iv, flip(tag), body].join('.'))).toThrow();
    expect(() => cipher.decrypt([v, flip(iv), tag, body].join('.'))).toThrow();
  });

  it('when decrypted with another key, then it fails', () => {
    const other = createCipher('b2'.repeat(32));
    expect(() => other.decrypt(cipher.encrypt('secret'))).toThrow();
  });

  it('when the value is not in the v1 format, then it fails', () => {
    expect(() => cipher.decrypt('plain text')).toThrow(/Unreadable/);
    expect(() => cipher.decrypt('v2.a.b.c')).toThrow(/Unreadable/);
  });

  it('maps empty and missing values to null', () => {
    expect(cipher.encryptOptional('')).toBeNull();
    expect(cipher.encryptOptional(null)).toBeNull();
    expect(cipher.encryptOptional(undefined)).toBeNull();
    expect(cipher.decryptOptional(null)).toBeNull();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createCipher('00'.repeat(16))).toThrow(/32 bytes/);
  });
});
