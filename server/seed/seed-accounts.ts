import type { Knex } from 'knex';

/**
 * The email domains of the accounts the seeds create, whose password is published (the README,
 * the seeds' code): the demo (`seed:demo`, a fresh embedded database) and the bench
 * (`bench:seed`). Production refuses to start while any of them is enabled (server/index.ts).
 */
export const DEMO_EMAIL_DOMAIN = 'demo.aller-vers.fr';
export const BENCH_EMAIL_DOMAIN = 'bench.aller-vers.test';
export const SEED_EMAIL_DOMAINS = [DEMO_EMAIL_DOMAIN, BENCH_EMAIL_DOMAIN] as const;
export type SeedEmailDomain = (typeof SEED_EMAIL_DOMAINS)[number];

/** The enabled accounts of each seed's domain: a disabled one cannot sign in. */
export async function countSeedAccounts(knex: Knex): Promise<Record<SeedEmailDomain, number>> {
  const counts = await Promise.all(
    SEED_EMAIL_DOMAINS.map(async (domain) => {
      const [{ count }] = await knex('users')
        .whereRaw('lower(email) like ?', [`%@${domain}`])
        .whereNull('disabled_at')
        .count<{ count: string | number }[]>({ count: '*' });
      return [domain, Number(count)] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<SeedEmailDomain, number>;
}

/**
 * Why production must not start on the seeds' enabled accounts, and what to do instead; null
 * when there are none.
 */
export function seedAccountsRefusal(counts: Record<SeedEmailDomain, number>): string | null {
  const found = SEED_EMAIL_DOMAINS.filter((d) => counts[d] > 0);
  if (!found.length) return null;
  const total = found.reduce((n, d) => n + counts[d], 0);
  return (
    `Refusing to start in production: ${total} enabled account(s) of a seed, whose password is ` +
    `published (${found.map((d) => `${counts[d]} @${d}`).join(', ')}). Disable each one ` +
    '(npm run cli -- users:disable --email …) or delete them, or start on a database the seeds ' +
    'never wrote to.'
  );
}
