import {
  consentRefusal,
  isConsentValid,
  validConsentSql,
} from '../../../server/features/consents/consent-validity';
import { testKnex } from '../../setup/db';

/** Consent validity and its SQL twin agree, at a fixed moment. */
describe('consent validity', () => {
  const now = new Date('2026-03-10T10:00:00Z');
  const before = new Date('2026-03-01T10:00:00Z');
  const after = new Date('2026-04-01T10:00:00Z');

  const cases: [string, Date, Date | null, Date | null, boolean][] = [
    // what, given at, expires at, revoked at, valid
    ['given, no expiry', before, null, null, true],
    ['given, expires later', before, after, null, true],
    ['expired', before, before, null, false],
    ['expiring right now', before, now, null, false],
    ['given later than now', after, null, null, false],
    ['revoked', before, after, before, false],
  ];

  it.each(cases)('%s', async (_what, givenAt, expiresAt, revokedAt, valid) => {
    expect(isConsentValid({ givenAt, expiresAt, revokedAt }, now)).toBe(valid);
    const { rows } = await testKnex().raw<{ rows: { valid: boolean }[] }>(
      `select (${validConsentSql('c')}) as valid
         from (select ?::timestamptz as given_at, ?::timestamptz as expires_at,
                      ?::timestamptz as revoked_at) c`,
      // The rule's two bindings come first in the text, then the row's three.
      [now, now, givenAt, expiresAt, revokedAt],
    );
    expect(rows[0].valid).toBe(valid);
  });

  it('says why no consent stands, from the newest one', () => {
    expect(consentRefusal(null, now)).toBe('consent_required');
    expect(consentRefusal({ revokedAt: before, expiresAt: null }, now)).toBe('consent_revoked');
    expect(consentRefusal({ revokedAt: null, expiresAt: before }, now)).toBe('consent_expired');
    expect(consentRefusal({ revokedAt: null, expiresAt: after }, now)).toBe('consent_required');
  });
});
