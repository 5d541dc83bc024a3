/**
 * When a consent holds, the one place this rule lives: not revoked, already given, and not yet
 * expired at `now`. Repositories use the SQL form, the rest the function.
 */
export function isConsentValid(
  c: { revokedAt: Date | null; givenAt: Date; expiresAt: Date | null },
  now: Date,
): boolean {
  return (
    !c.revokedAt && new Date(c.givenAt) <= now && (!c.expiresAt || new Date(c.expiresAt) > now)
  );
}

/** The same rule in SQL on the consents table aliased `a`; it takes two bindings, `now` twice. */
export const validConsentSql = (a: string) =>
  `${a}.revoked_at is null and ${a}.given_at <= ? and (${a}.expires_at is null or ${a}.expires_at > ?)`;

/** Why no valid consent stands, from the newest one whatever its state (null: none was given). */
export function consentRefusal(
  latest: { revokedAt: Date | null; expiresAt: Date | null } | null,
  now: Date,
): 'consent_revoked' | 'consent_expired' | 'consent_required' {
  if (latest?.revokedAt) return 'consent_revoked';
  if (latest?.expiresAt && new Date(latest.expiresAt) <= now) return 'consent_expired';
  return 'consent_required';
}
