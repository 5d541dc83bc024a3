import request from 'supertest';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, DEFAULT_PASSWORD, type TestContext } from '../../setup/context';
import { createTeam, createUser } from '../../setup/factories';
import { csrfOf } from '../../e2e/html';

/**
 * Security line 32: failed logins cannot lock an account's owner out from elsewhere. Throttled
 * per account and address; across addresses the account slows down (a growing wait, capped),
 * never locks. The slow-down's waits are measured on the injected clock, fixed here.
 */
describe('login throttle across addresses', () => {
  const clock = fixedClock('2026-12-05T22:00:00Z'); // a Saturday night
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  /** A login from `address` (the trusted loopback proxy's X-Forwarded-For). */
  const login = (email: string, address: string, password = DEFAULT_PASSWORD) =>
    request(ctx.app).post('/api/session').set('X-Forwarded-For', address).send({ email, password });

  it('when 10 wrong passwords come from one address, then that address is blocked but the owner logs in from another after a short wait', async () => {
    const owner = await createUser(team.structure.id, 'worker');
    for (let i = 0; i < 10; i += 1)
      expect((await login(owner.email, '203.0.113.66', `guess ${i}`)).status).toBe(401);
    const blocked = await login(owner.email, '203.0.113.66');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(60);

    // The owner, elsewhere: a wait of a second or so, never 15 minutes.
    const first = await login(owner.email, '198.51.100.7');
    if (first.status === 429) {
      const wait = Number(first.headers['retry-after']);
      expect(wait).toBeLessThanOrEqual(30);
      clock.advance(wait * 1000);
      expect((await login(owner.email, '198.51.100.7')).status).toBe(200);
    } else expect(first.status).toBe(200);
  });

  it('when guesses are spread over addresses, then each waits a delay that doubles with the failures, up to 30 seconds, and the owner still gets in', async () => {
    const owner = await createUser(team.structure.id, 'worker');
    // Ten addresses, one guess each: no wait yet.
    for (let i = 0; i < 10; i += 1)
      expect((await login(owner.email, `203.0.113.${i}`, `guess ${i}`)).status).toBe(401);
    const waits: number[] = [];
    for (let i = 10; i < 18; i += 1) {
      const address = `203.0.113.${i}`;
      const refused = await login(owner.email, address, `guess ${i}`);
      expect(refused.status).toBe(429);
      const wait = Number(refused.headers['retry-after']);
      waits.push(wait);
      // Still early: refused again, without a new failure counted.
      clock.advance(wait * 1000 - 500);
      expect((await login(owner.email, address, `guess ${i}`)).status).toBe(429);
      clock.advance(500);
      expect((await login(owner.email, address, `guess ${i}`)).status).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);

    // The right password waits like any attempt (no guessing through the slow-down)…
    const ownerTry = await login(owner.email, '198.51.100.20');
    expect(ownerTry.status).toBe(429);
    expect(Number(ownerTry.headers['retry-after'])).toBe(30);
    clock.advance(30_000);
    // …and then gets in: the account was never locked.
    expect((await login(owner.email, '198.51.100.20')).status).toBe(200);
    // A success forgets the failures: the next login is not slowed.
    expect((await login(owner.email, '198.51.100.21')).status).toBe(200);
  });

  it('when the login page meets the slow-down, then it says in French how many seconds to wait, and the owner gets in after them', async () => {
    const owner = await createUser(team.structure.id, 'worker');
    for (let i = 0; i < 10; i += 1) await login(owner.email, `192.0.2.${100 + i}`, `guess ${i}`);
    const agent = request.agent(ctx.app);
    const form = async () => {
      const page = await agent.get('/connexion').set('X-Forwarded-For', '198.51.100.99');
      return agent
        .post('/connexion')
        .set('X-Forwarded-For', '198.51.100.99')
        .type('form')
        .send({ _csrf: csrfOf(page.text), email: owner.email, password: DEFAULT_PASSWORD });
    };
    const slowed = await form();
    expect(slowed.status).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    expect(slowed.text).toContain('patientez 1 seconde avant de réessayer');
    clock.advance(1000);
    expect((await form()).status).toBe(303);
  });

  it('when another account is attacked, then this one is not slowed', async () => {
    const victim = await createUser(team.structure.id, 'worker');
    const bystander = await createUser(team.structure.id, 'worker');
    for (let i = 0; i < 12; i += 1) await login(victim.email, `192.0.2.${i}`, `guess ${i}`);
    expect((await login(bystander.email, '192.0.2.200')).status).toBe(200);
  });
});
