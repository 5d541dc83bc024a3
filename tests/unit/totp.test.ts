import {
  hashRecoveryCode,
  newRecoveryCode,
  newTotpSecret,
  otpauthUri,
  totpCode,
  totpStep,
} from '../../server/features/two-factor/totp';

/** RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('gives the RFC 6238 code at %i s (last 6 digits of the 8-digit vector)', (seconds, code) => {
    const at = new Date(seconds * 1000);
    expect(totpCode(RFC_SECRET, at)).toBe(code);
    expect(totpStep(RFC_SECRET, code, at)).toBe(Math.floor(seconds / 30));
  });

  it('accepts the previous and next steps (clock drift), not two steps away, and answers the code’s own step', () => {
    const now = new Date('2026-11-24T09:00:10Z');
    const step = Math.floor(now.getTime() / 30000);
    const at = (k: number) => new Date((step + k) * 30000 + 5000);
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, at(-1)), now)).toBe(step - 1);
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, at(1)), now)).toBe(step + 1);
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, at(-2)), now)).toBeNull();
    expect(totpStep(RFC_SECRET, totpCode(RFC_SECRET, at(2)), now)).toBeNull();
  });

  it('refuses what is not six digits', () => {
    const now = new Date();
    const code = totpCode(RFC_SECRET, now);
    for (const typed of ['', `${code}0`, code.slice(1), ` ${code}`, 'abcdef', '12345a'])
      expect(totpStep(RFC_SECRET, typed, now)).toBeNull();
  });

  it('makes 160-bit secrets and an otpauth address apps read', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    const uri = new URL(otpauthUri(secret, 'cadre@ccas.fr'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('aller-vers');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });

  it('makes recovery codes of 80 bits, hashed the same however they are typed', () => {
    const codes = Array.from({ length: 50 }, newRecoveryCode);
    for (const c of codes) expect(c).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(new Set(codes).size).toBe(50);
    const c = codes[0];
    expect(hashRecoveryCode(c.toUpperCase().replace(/-/g, ' '))).toBe(hashRecoveryCode(c));
    expect(hashRecoveryCode(c)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(codes[1])).not.toBe(hashRecoveryCode(c));
  });
});
