import { createLoginThrottle, slowDownDelayMs } from '../../server/auth/login-throttle';
import { fixedClock } from '../../server/lib/clock';
import { TooManyRequestsError } from '../../server/lib/errors';

describe('login throttle (in-memory, as while Redis is away)', () => {
  const make = () =>
    createLoginThrottle(null, {
      perAccountAddress: 3,
      perIp: 5,
      windowSeconds: 60,
      keyPrefix: 't',
    });

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

  it('when an IPv6 client spreads its guesses over its /64, then it is one address; an IPv4-mapped address is its IPv4', async () => {
    const t = make();
    for (let i = 1; i <= 5; i += 1) await t.attempt(`v${i}@x.test`, `2001:db8:5::${i}`);
    await expect(t.attempt('new@x.test', '2001:db8:5::ff')).rejects.toBeInstanceOf(
      TooManyRequestsError,
    );
    await expect(t.attempt('new@x.test', '2001:db8:6::1')).resolves.toBeUndefined();
    for (let i = 0; i < 3; i += 1) await t.attempt('w@x.test', '10.0.0.9');
    await expect(t.attempt('w@x.test', '::ffff:10.0.0.9')).rejects.toBeInstanceOf(
      TooManyRequestsError,
    );
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

  it('when a right password still needs its code, then the address gets its point back, while the account’s attempts stay counted', async () => {
    const t = make();
    for (let i = 0; i < 3; i += 1) {
      await t.attempt('g@x.test', '10.0.0.6');
      await t.passFirstFactor('10.0.0.6');
    }
    // The password alone resets nothing of the account: its fourth attempt from here waits.
    await expect(t.attempt('g@x.test', '10.0.0.6')).rejects.toBeInstanceOf(TooManyRequestsError);
    // The address paid for the refused attempt only: four more pass, the fifth does not.
    for (let i = 0; i < 4; i += 1) await t.attempt(`h${i}@x.test`, '10.0.0.6');
    await expect(t.attempt('h9@x.test', '10.0.0.6')).rejects.toBeInstanceOf(TooManyRequestsError);
  });

  it.each([
    ['an IPv6 network (one /64, an address each time)', (i: number) => `2001:db8:7::${i + 1}`],
    ['an IPv4 address written as IPv6 (::ffff:a.b.c.d)', () => '::ffff:10.0.0.7'],
  ])(
    'when logins with a second factor come from %s, then the address gets back the point of each right password',
    async (_, address) => {
      const t = make();
      // Five is the address's whole budget: were the refund keyed apart from the charge, the
      // sixth password step would be refused.
      for (let i = 0; i < 8; i += 1) {
        await t.attempt(`k${i}@x.test`, address(i));
        await t.passFirstFactor(address(i));
      }
      await expect(t.attempt('k9@x.test', address(9))).resolves.toBeUndefined();
    },
  );
});

describe('login slow-down across addresses (in memory, as while Redis is away)', () => {
  it('doubles the wait with each failure past the threshold, up to its cap', () => {
    const o = { slowAfter: 10, baseDelayMs: 1000, maxDelayMs: 30_000 };
    expect([9, 10, 11, 12, 14, 15, 200].map((f) => slowDownDelayMs(f, o))).toEqual([
      0, 1000, 2000, 4000, 16_000, 30_000, 30_000,
    ]);
  });

  it('when an account failed past the threshold, then a new address waits the delay once, then passes', async () => {
    const clock = fixedClock('2026-12-05T22:00:00Z');
    const t = createLoginThrottle(null, { slowAfter: 2, keyPrefix: 's', clock });
    await t.attempt('f@x.test', '10.0.1.1');
    await t.attempt('f@x.test', '10.0.1.2');
    const err = await t.attempt('f@x.test', '10.0.1.3').catch((e: unknown) => e);
    expect((err as TooManyRequestsError).retryAfterSeconds).toBe(1);
    clock.advance(1000);
    await expect(t.attempt('f@x.test', '10.0.1.3')).resolves.toBeUndefined();
  });

  it('when more addresses are slowed than the memory holds (Redis away), then the soonest to lapse is forgotten and that address waits once again', async () => {
    const clock = fixedClock('2026-12-05T22:00:00Z');
    const slowed = (memoryCap: number) =>
      createLoginThrottle(null, { slowAfter: 2, keyPrefix: 's', clock, memoryCap });
    for (const [memoryCap, remembered] of [
      [10, true],
      [1, false],
    ] as const) {
      const t = slowed(memoryCap);
      const email = `cap${memoryCap}@x.test`;
      await t.attempt(email, '10.0.3.1');
      await t.attempt(email, '10.0.3.2');
      await expect(t.attempt(email, '10.0.3.3')).rejects.toBeInstanceOf(TooManyRequestsError);
      await expect(t.attempt(email, '10.0.3.4')).rejects.toBeInstanceOf(TooManyRequestsError);
      clock.advance(1000);
      // 10.0.3.3 waited its delay: remembered, it passes; forgotten, it is new and waits again.
      const next = t.attempt(email, '10.0.3.3');
      if (remembered) await expect(next).resolves.toBeUndefined();
      else await expect(next).rejects.toBeInstanceOf(TooManyRequestsError);
    }
  });

  it('when an address has not tried the slowed account for longer than the window, then its next-attempt time is forgotten as Redis forgets it (it waits once again)', async () => {
    const clock = fixedClock('2026-12-05T22:00:00Z');
    const t = createLoginThrottle(null, { slowAfter: 2, keyPrefix: 's', clock, windowSeconds: 60 });
    await t.attempt('g@x.test', '10.0.2.1');
    await t.attempt('g@x.test', '10.0.2.2');
    await expect(t.attempt('g@x.test', '10.0.2.3')).rejects.toBeInstanceOf(TooManyRequestsError);
    clock.advance(1000);
    await expect(t.attempt('g@x.test', '10.0.2.3')).resolves.toBeUndefined();
    // The failures are counted on the real clock (still within their window); the next-attempt
    // entry, on the injected one, lapses after 60 s like its Redis key.
    clock.advance(61_000);
    await expect(t.attempt('g@x.test', '10.0.2.3')).rejects.toBeInstanceOf(TooManyRequestsError);
  });
});
