import { createLoginThrottle } from '../../server/auth/login-throttle';
import { TooManyRequestsError } from '../../server/lib/errors';

describe('login throttle (in-memory, as while Redis is away)', () => {
  const make = () =>
    createLoginThrottle(null, { perAccount: 3, perIp: 5, windowSeconds: 60, keyPrefix: 't' });

  it('when an account uses up its attempts, then 429 with a retry delay; another account still passes', async () => {
    const t = make();
    for (let i = 0; i < 3; i += 1) await t.attempt('a@x.test', '10.0.0.1');
    const err = await t.attempt('A@X.test ', '10.0.0.1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequestsError);
    expect((err as TooManyRequestsError).retryAfterSeconds).toBeGreaterThan(0);
    expect((err as TooManyRequestsError).retryAfterSeconds).toBeLessThanOrEqual(60);
    await expect(t.attempt('b@x.test', '10.0.0.1')).resolves.toBeUndefined();
  });

  it('when attempts arrive in parallel, then no more than the limit pass', async () => {
    const t = make();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => t.attempt('c@x.test', '10.0.0.2')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });

  it('when an IP spreads its guesses over accounts, then it is blocked at its own limit', async () => {
    const t = make();
    for (let i = 0; i < 5; i += 1) await t.attempt(`u${i}@x.test`, '10.0.0.3');
    await expect(t.attempt('new@x.test', '10.0.0.3')).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(t.attempt('new@x.test', '10.0.0.4')).resolves.toBeUndefined();
  });

  it('when a login succeeds, then the account starts afresh and the IP gets its point back', async () => {
    const t = make();
    await t.attempt('d@x.test', '10.0.0.5');
    await t.attempt('d@x.test', '10.0.0.5');
    await t.attempt('d@x.test', '10.0.0.5');
    await t.succeed('d@x.test', '10.0.0.5');
    await t.attempt('d@x.test', '10.0.0.5');
    await t.attempt('d@x.test', '10.0.0.5');
    // 5 attempts counted on the IP, one given back: one more passes.
    await expect(t.attempt('e@x.test', '10.0.0.5')).resolves.toBeUndefined();
    await expect(t.attempt('e@x.test', '10.0.0.5')).rejects.toBeInstanceOf(TooManyRequestsError);
  });
});
