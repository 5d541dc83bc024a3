import crypto from 'node:crypto';
import request from 'supertest';
import { MAX_LIVE_TOKENS } from '../../../server/features/api-tokens/api-token-service';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createUser } from '../../setup/factories';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';
import { auditRows } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

describe('API tokens for partner systems (Bearer)', () => {
  const clock = fixedClock('2026-11-24T10:00:00+01:00');
  let ctx: TestContext;
  let w: World;
  let referralId: string;
  let otherReferralId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    await giveConsent(w.agents.worker, person.id, w.other.id);
    referralId = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
    otherReferralId = (await refer(w.agents.worker, person.id, w.other.id)).body.id;
  });
  afterAll(async () => ctx.close());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  async function newToken(agent = w.agents.partner, body: Record<string, unknown> = {}) {
    const res = await agent.post('/api/tokens').send({ name: 'Logiciel de la banque', ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string; name: string; prefix: string };
  }

  it('when a partner user creates a token, then 201 { id, name, token } once, only its SHA-256 is stored, the list never shows it, and the creation is audited', async () => {
    const created = await newToken();
    expect(created).toMatchObject({ name: 'Logiciel de la banque', lastUsedAt: null });
    expect(created.token).toMatch(/^av_[A-Za-z0-9_-]{43}$/);
    expect(created.token.startsWith(created.prefix)).toBe(true);

    const row = await testKnex()('api_tokens').where({ id: created.id }).first();
    expect(row.token_hash).toBe(crypto.createHash('sha256').update(created.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.token.slice(3));

    const list = await w.agents.partner.get('/api/tokens');
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: string }) => t.id)).toContain(created.id);
    expect(JSON.stringify(list.body)).not.toContain(created.token);
    expect(list.body.items[0]).not.toHaveProperty('token');

    const audit = await auditRows({ subject_id: created.id, action: 'api_token.created' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0])).not.toContain(created.token);
  });

  it('when a user asks for more tokens than the cap all at once, then exactly the cap is created and the rest are 422 too_many_tokens', async () => {
    const user = await createUser(w.team.structure.id, 'partner', { partnerId: w.food.partner.id });
    const agent = await loginAs(ctx.app, user.email);
    const results = await Promise.all(
      Array.from({ length: MAX_LIVE_TOKENS + 6 }, (_, i) =>
        agent.post('/api/tokens').send({ name: `Logiciel ${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(MAX_LIVE_TOKENS).fill(201), ...Array(6).fill(422)]);
    for (const r of results.filter((x) => x.status === 422))
      expect(r.body.error.code).toBe('too_many_tokens');
    expect(await testKnex()('api_tokens').where({ user_id: user.id })).toHaveLength(
      MAX_LIVE_TOKENS,
    );
  });

  it('when a token is sent as Bearer, then it lists, reads and moves its partner’s referrals only; another partner’s referral is 404', async () => {
    const { token } = await newToken();
    const list = await request(ctx.app).get('/api/referrals').set(bearer(token));
    expect(list.status).toBe(200);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([referralId]);
    // No session is made for a token: nothing to store, no cookie back.
    expect(list.headers['set-cookie']).toBeUndefined();

    const one = await request(ctx.app).get(`/api/referrals/${referralId}`).set(bearer(token));
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(referralId);
    const foreign = await request(ctx.app)
      .get(`/api/referrals/${otherReferralId}`)
      .set(bearer(token));
    expect(foreign.status).toBe(404);

    // No cookie rides along, so no CSRF check: even a foreign Origin is irrelevant.
    const accept = await request(ctx.app)
      .post(`/api/referrals/${referralId}/transitions`)
      .set(bearer(token))
      .set('Origin', 'https://elsewhere.example')
      .send({ to: 'accepted' });
    expect(accept.status).toBe(200);
    expect(accept.body.status).toBe('accepted');
    const event = await testKnex()('referral_events')
      .where({ referral_id: referralId, to_status: 'accepted' })
      .first();
    expect(event.actor_id).toBe(w.users.p1.id);
  });

  it('when a cookie request comes from another origin, then the same-origin check still refuses it', async () => {
    const res = await w.agents.partner
      .post('/api/tokens')
      .set('Origin', 'https://elsewhere.example')
      .send({ name: 'x' });
    expect(res.status).toBe(403);
  });

  it('when a token calls anything but the referrals, then 403 token_scope (or 403 for a role it lacks)', async () => {
    const { token } = await newToken();
    const calls = [
      request(ctx.app).get('/api/me').set(bearer(token)),
      request(ctx.app).get('/api/tokens').set(bearer(token)),
      request(ctx.app).post('/api/tokens').set(bearer(token)).send({ name: 'again' }),
      request(ctx.app).get('/api/notifications').set(bearer(token)),
      request(ctx.app).delete('/api/session').set(bearer(token)),
      request(ctx.app).get('/api/persons').set(bearer(token)),
    ];
    const answers = await Promise.all(calls);
    for (const res of answers) expect(res.status).toBe(403);
    expect(answers[0].body.error.code).toBe('token_scope');
    expect(answers[2].body.error.code).toBe('token_scope');
  });

  it('when the last use is recorded, then it is written at most once a minute', async () => {
    const { id, token } = await newToken();
    const lastUsed = async () =>
      (await testKnex()('api_tokens').where({ id }).first('last_used_at')).last_used_at as Date;
    await request(ctx.app).get('/api/referrals').set(bearer(token)).expect(200);
    const first = await lastUsed();
    expect(first.getTime()).toBe(clock.now().getTime());
    clock.advance(30_000);
    await request(ctx.app).get('/api/referrals').set(bearer(token)).expect(200);
    expect((await lastUsed()).getTime()).toBe(first.getTime());
    clock.advance(31_000);
    await request(ctx.app).get('/api/referrals').set(bearer(token)).expect(200);
    expect((await lastUsed()).getTime()).toBe(clock.now().getTime());
    const listed = await w.agents.partner.get('/api/tokens');
    const mine = listed.body.items.find((t: { id: string }) => t.id === id);
    expect(new Date(mine.lastUsedAt).getTime()).toBe(clock.now().getTime());
  });

  it('when a token is revoked, then it answers 401 at once; another user’s token id on DELETE is 404; the revocation is audited', async () => {
    const { id, token } = await newToken();
    const outsider = await w.agents.partner2.delete(`/api/tokens/${id}`);
    expect(outsider.status).toBe(404);
    const worker = await w.agents.worker.delete(`/api/tokens/${id}`);
    expect(worker.status).toBe(403);
    expect((await w.agents.partner.delete(`/api/tokens/${crypto.randomUUID()}`)).status).toBe(404);

    const revoked = await w.agents.partner.delete(`/api/tokens/${id}`);
    expect(revoked.status).toBe(204);
    const res = await request(ctx.app).get('/api/referrals').set(bearer(token));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_token');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    // A session cookie riding along does not stand in for the refused token.
    const withCookie = await w.agents.partner.get('/api/referrals').set(bearer(token));
    expect(withCookie.status).toBe(401);
    const list = await w.agents.partner.get('/api/tokens');
    expect(list.body.items.map((t: { id: string }) => t.id)).not.toContain(id);
    expect(await auditRows({ subject_id: id, action: 'api_token.revoked' })).toHaveLength(1);
  });

  it('when a token has expired, or its user is disabled, then 401; an expired token leaves the list and the page', async () => {
    const short = await newToken(w.agents.partner, { expiresInDays: 1 });
    await request(ctx.app).get('/api/referrals').set(bearer(short.token)).expect(200);
    const listed = async () => {
      const api = await w.agents.partner.get('/api/tokens');
      expect(api.status).toBe(200);
      const page = await w.agents.partner.get('/mon-compte/jetons');
      expect(page.status).toBe(200);
      return {
        api: api.body.items.map((t: { id: string }) => t.id) as string[],
        page: page.text.includes(`/mon-compte/jetons/${short.id}/revocation`),
      };
    };
    expect(await listed()).toEqual({ api: expect.arrayContaining([short.id]), page: true });
    clock.advance(24 * 60 * 60 * 1000 + 1000);
    expect((await request(ctx.app).get('/api/referrals').set(bearer(short.token))).status).toBe(
      401,
    );
    const after = await listed();
    expect(after.api).not.toContain(short.id);
    expect(after.page).toBe(false);

    const theirs = await newToken(w.agents.partner2);
    await request(ctx.app).get('/api/referrals').set(bearer(theirs.token)).expect(200);
    const off = await w.agents.admin.patch(`/api/users/${w.users.p2.id}`).send({ disabled: true });
    expect(off.status).toBe(200);
    expect((await request(ctx.app).get('/api/referrals').set(bearer(theirs.token))).status).toBe(
      401,
    );
  });

  it('when the token is malformed or unknown, then 401; a staff user cannot create one; bad input is 400 naming the field', async () => {
    for (const header of [
      'Bearer',
      'Bearer av_short',
      'Basic dXNlcjpwYXNz',
      `Bearer av_${'A'.repeat(43)}`,
    ]) {
      const res = await request(ctx.app).get('/api/referrals').set('Authorization', header);
      expect(res.status).toBe(401);
    }
    expect((await w.agents.worker.post('/api/tokens').send({ name: 'x' })).status).toBe(403);
    const blank = await w.agents.partner.post('/api/tokens').send({ name: '  ' });
    expect(blank.status).toBe(400);
    expect(JSON.stringify(blank.body.error.details)).toContain('name');
    const days = await w.agents.partner.post('/api/tokens').send({ name: 'x', expiresInDays: 0 });
    expect(days.status).toBe(400);
    expect(JSON.stringify(days.body.error.details)).toContain('expiresInDays');
    expect((await w.agents.partner.delete('/api/tokens/not-a-uuid')).status).toBe(400);
  });

  it('when an address keeps sending wrong tokens, then it is throttled like failed logins (429), and a live token from it still works', async () => {
    const { token } = await newToken();
    // A fresh address: express reads X-Forwarded-For from the loopback proxy.
    const from = '203.0.113.9';
    let last = 0;
    for (let i = 0; i < 101; i += 1) {
      last = (
        await request(ctx.app)
          .get('/api/referrals')
          .set('X-Forwarded-For', from)
          .set('Authorization', `Bearer av_${'B'.repeat(43)}`)
      ).status;
    }
    expect(last).toBe(429);
    // Only failures are throttled: a partner system behind the same address (a shared NAT, a
    // proxy) keeps working with its live token, while wrong tokens from there are still refused.
    const live = await request(ctx.app)
      .get('/api/referrals')
      .set('X-Forwarded-For', from)
      .set(bearer(token));
    expect(live.status).toBe(200);
    const wrong = await request(ctx.app)
      .get('/api/referrals')
      .set('X-Forwarded-For', from)
      .set('Authorization', `Bearer av_${'B'.repeat(43)}`);
    expect(wrong.status).toBe(429);
    // Another address is not concerned.
    const other = await request(ctx.app)
      .get('/api/referrals')
      .set('X-Forwarded-For', '203.0.113.10')
      .set('Authorization', `Bearer av_${'B'.repeat(43)}`);
    expect(other.status).toBe(401);
    // And a partner still signs in with their session.
    expect((await (await loginAs(ctx.app, w.users.p1.email)).get('/api/referrals')).status).toBe(
      200,
    );
  });

  it('when an IPv6 client sends wrong tokens from ever new addresses of its /64, then it is throttled as one address', async () => {
    const wrong = (from: string) =>
      request(ctx.app)
        .get('/api/referrals')
        .set('X-Forwarded-For', from)
        .set('Authorization', `Bearer av_${'B'.repeat(43)}`);
    const statuses: number[] = [];
    for (let i = 1; i <= 101; i += 1)
      statuses.push((await wrong(`2001:db8:7::${i.toString(16)}`)).status);
    expect(statuses.slice(0, 100)).toEqual(Array(100).fill(401));
    expect(statuses[100]).toBe(429);
    expect((await wrong('2001:db8:8::1')).status).toBe(401);
  });
});
