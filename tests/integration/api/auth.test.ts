import request from 'supertest';
import { hashPassword } from '../../../server/auth/passwords';
import { TOUCH_INTERVAL_MS } from '../../../server/auth/session';
import { fixedClock } from '../../../server/lib/clock';
import { createUserRepository } from '../../../server/features/users/user-repository';
import {
  createTestContext,
  DEFAULT_PASSWORD,
  loginAs,
  type TestContext,
} from '../../setup/context';
import { testKnex } from '../../setup/db';
import { capture } from '../../setup/plans';
import { createTeam, createUser } from '../../setup/factories';
import { sessionCookie } from './helpers';

const userRepository = createUserRepository();

describe('auth API: sessions, passwords, throttling', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  const login = (email: string, password = DEFAULT_PASSWORD) =>
    request(ctx.app).post('/api/session').send({ email, password });
  const me = (cookie: string) => request(ctx.app).get('/api/me').set('Cookie', cookie);

  it('when a user logs in, then 200 with the actor and no password hash, and /api/me answers', async () => {
    const res = await login(team.worker.email);
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({
      id: team.worker.id,
      structureId: team.structure.id,
      role: 'worker',
      partnerId: null,
      name: team.worker.name,
      email: team.worker.email,
    });
    const who = await me(sessionCookie(res));
    expect(who.status).toBe(200);
    expect(who.body.user.id).toBe(team.worker.id);
    expect(JSON.stringify(who.body)).not.toMatch(/argon2|passwordHash/);
  });

  it("when a signed-in request reads its session, then the password hash and the second factor's secrets stay in the database", async () => {
    const cookie = sessionCookie(await login(team.worker.email));
    const sent = await capture(
      ctx.deps.knex,
      /"sessions"/,
      () => me(cookie),
      (res) => expect(res.status).toBe(200),
    );
    expect(sent.length).toBeGreaterThanOrEqual(1);
    for (const q of sent)
      expect(q.sql).not.toMatch(/password_hash|totp_secret|totp_pending|"u"\.\*/);
  });

  it('when the email differs only in case, then that very user is logged in', async () => {
    const res = await login(team.manager.email.toUpperCase());
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: team.manager.id, email: team.manager.email });
    // The session stored belongs to the manager.
    const sid = decodeSid(sessionCookie(res));
    const row = await testKnex()('sessions').where({ sid }).first();
    const sess = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
    expect(sess.passport.user.id).toBe(team.manager.id);
    const who = await me(sessionCookie(res));
    expect(who.body.user).toMatchObject({ id: team.manager.id, role: 'manager' });
  });

  it('when nobody is signed in, then GET /api/me is 401', async () => {
    const res = await request(ctx.app).get('/api/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('when the password is wrong or the email unknown, then the same 401 message', async () => {
    const wrong = await login(team.worker2.email, 'not the right password at all');
    const unknown = await login('nobody-here@example.test', 'not the right password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('when the body lacks the password or has an unknown field, then 400 naming it', async () => {
    const missing = await request(ctx.app).post('/api/session').send({ email: team.worker.email });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'password' })]),
    );
    const extra = await request(ctx.app)
      .post('/api/session')
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD, remember: true });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body.error.details)).toContain('remember');
  });

  it('when the body carries a totp for an account without a second factor, then the login ignores it; a totp that is not a string is 400 naming it', async () => {
    const ok = await request(ctx.app)
      .post('/api/session')
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD, totp: '123456' });
    expect(ok.status).toBe(200);
    const res = await request(ctx.app)
      .post('/api/session')
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD, totp: 123456 });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'totp' })]),
    );
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('stores the password as argon2id with m >= 19456 and t >= 2', async () => {
    const row = await testKnex()('users').where({ id: team.worker.id }).first('password_hash');
    const hash = row.password_hash as string;
    expect(hash.startsWith('$argon2id$')).toBe(true);
    const params = Object.fromEntries(
      hash
        .split('$')[3]
        .split(',')
        .map((kv) => kv.split('=')),
    );
    expect(Number(params.m)).toBeGreaterThanOrEqual(19456);
    expect(Number(params.t)).toBeGreaterThanOrEqual(2);
  });

  it('when the password is 100 characters long, then the login works', async () => {
    const long =
      'Une phrase de passe très longue pour aller vers les personnes sans recours, quartier nord 2026 !!';
    const password = long.padEnd(100, 'x');
    expect([...password]).toHaveLength(100);
    const user = await createUser(team.structure.id, 'worker');
    await userRepository.setPassword(testKnex(), user.id, await hashPassword(password));
    expect((await login(user.email, password)).status).toBe(200);
    expect((await login(user.email, password.slice(0, 99))).status).toBe(401);
  });

  it('when the same account fails 20 times, then 429 with Retry-After, while another account on the same IP still logs in', async () => {
    const victim = await createUser(team.structure.id, 'worker');
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 20; i += 1) {
      last = await login(victim.email, `wrong password number ${i}`);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses[19]).toBe(429);
    expect(last!.body.error.code).toBe('too_many_requests');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits for the block to end: no guessing during the block.
    expect((await login(victim.email)).status).toBe(429);

    const other = await createUser(team.structure.id, 'worker');
    expect((await login(other.email)).status).toBe(200);
  });

  it('when 30 wrong passwords arrive at once, then at most 10 are checked and the rest get 429', async () => {
    const victim = await createUser(team.structure.id, 'worker');
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(victim.email, `parallel guess ${i}`)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it('when a user logs in successfully after a few failures, then the failures are forgotten', async () => {
    const user = await createUser(team.structure.id, 'worker');
    for (let i = 0; i < 8; i += 1) expect((await login(user.email, `typo ${i}`)).status).toBe(401);
    expect((await login(user.email)).status).toBe(200);
    for (let i = 0; i < 8; i += 1) expect((await login(user.email, `typo ${i}`)).status).toBe(401);
    expect((await login(user.email)).status).toBe(200);
  });

  it('when a user logs in again, then the session id changes and the old cookie is 401', async () => {
    const first = await login(team.worker.email);
    const oldCookie = sessionCookie(first);
    const second = await request(ctx.app)
      .post('/api/session')
      .set('Cookie', oldCookie)
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD });
    expect(second.status).toBe(200);
    const newCookie = sessionCookie(second);
    expect(newCookie).not.toBe(oldCookie);
    expect((await me(oldCookie)).status).toBe(401);
    expect((await me(newCookie)).status).toBe(200);
  });

  it('when a user logs out, then 204 and the old cookie is 401', async () => {
    const cookie = sessionCookie(await login(team.worker.email));
    expect((await me(cookie)).status).toBe(200);
    const out = await request(ctx.app).delete('/api/session').set('Cookie', cookie);
    expect(out.status).toBe(204);
    expect((await me(cookie)).status).toBe(401);
    expect(await testKnex()('sessions').where('sid', decodeSid(cookie))).toHaveLength(0);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const res = await login(team.worker.email);
    const raw = ([] as string[]).concat(res.headers['set-cookie'] as unknown as string[]);
    const cookie = raw.find((c) => c.startsWith('av.sid='))!;
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
  });

  it('when a user is disabled, then their open session is 401 at the next request and they cannot log in', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const cookie = sessionCookie(await login(user.email));
    expect((await me(cookie)).status).toBe(200);
    await testKnex().transaction((trx) => userRepository.update(trx, user.id, { disabled: true }));
    expect((await me(cookie)).status).toBe(401);
    const again = await login(user.email);
    expect(again.status).toBe(401);
    expect(again.body.error.message).toBe('Email or password is incorrect');
  });

  it('when the password changes, then the open session is 401 and the new password works', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const cookie = sessionCookie(await login(user.email));
    const newPassword = 'nouvelle phrase de passe du lundi';
    // As the set-password link does it: the hash, then every session ended.
    await userRepository.setPassword(testKnex(), user.id, await hashPassword(newPassword));
    await userRepository.endSessions(testKnex(), user.id);
    expect((await me(cookie)).status).toBe(401);
    expect((await login(user.email)).status).toBe(401);
    expect((await login(user.email, newPassword)).status).toBe(200);
  });

  it('when a stored session cannot be read, then 401 and the row is gone (no request left hanging)', async () => {
    const cookie = sessionCookie(await login(team.worker.email));
    const sid = decodeSid(cookie);
    await testKnex()('sessions')
      .where({ sid })
      .update({ sess: JSON.stringify('not a session') });
    expect((await me(cookie)).status).toBe(401);
    expect(await testKnex()('sessions').where({ sid }).first()).toBeUndefined();
  });

  it('when the role changes, then it applies at the next request', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const agent = await loginAs(ctx.app, user.email);
    expect((await agent.get('/api/persons')).status).toBe(200);
    await testKnex()('users').where({ id: user.id }).update({ role: 'observer' });
    expect((await agent.get('/api/persons')).status).toBe(403);
    expect((await agent.get('/api/me')).body.user.role).toBe('observer');
  });

  it('when a signed-in request arrives, then its session and its user are read in one statement; a session naming no existing user is 401, not 500', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const cookie = sessionCookie(await login(user.email));
    const sent: string[] = [];
    const onQuery = (q: { sql: string }) => sent.push(q.sql);
    ctx.deps.knex.on('query', onQuery);
    try {
      const res = await me(cookie);
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(user.id);
    } finally {
      ctx.deps.knex.removeListener('query', onQuery);
    }
    const reads = sent.filter((q) => /\b(sessions|users)\b/.test(q));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatch(/from "sessions".*join "users"/s);

    for (const id of ['8f1d6c3e-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const other = sessionCookie(await login(user.email));
      const row = await testKnex()('sessions')
        .where({ sid: decodeSid(other) })
        .first();
      const sess = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
      sess.passport.user.id = id;
      await testKnex()('sessions')
        .where({ sid: decodeSid(other) })
        .update({ sess: JSON.stringify(sess) });
      expect((await me(other)).status).toBe(401);
    }
  });
  it('when a session is older than 12 hours, then it ends with 401 (not 500) whatever the activity', async () => {
    const cookie = sessionCookie(await login(team.worker.email));
    const sid = decodeSid(cookie);
    const row = await testKnex()('sessions').where({ sid }).first();
    const sess = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
    sess.createdAt = Date.now() - 13 * 60 * 60 * 1000;
    await testKnex()('sessions')
      .where({ sid })
      .update({ sess: JSON.stringify(sess) });
    const res = await me(cookie);
    expect(res.status).toBe(401);
    expect((await me(cookie)).status).toBe(401);
  });

  it('when a session has been idle past its expiry, then 401', async () => {
    const cookie = sessionCookie(await login(team.worker.email));
    const sid = decodeSid(cookie);
    await testKnex()('sessions')
      .where({ sid })
      .update({ expire: new Date(Date.now() - 1000) });
    expect((await me(cookie)).status).toBe(401);
  });

  it('refreshes the idle expiry on each request (rolling cookie of at most 30 minutes)', async () => {
    const res = await login(team.worker.email);
    const raw = ([] as string[]).concat(res.headers['set-cookie'] as unknown as string[]);
    const expires = /Expires=([^;]+)/i.exec(raw.find((c) => c.startsWith('av.sid='))!)![1];
    const ms = new Date(expires).getTime() - Date.now();
    expect(ms).toBeLessThanOrEqual(30 * 60 * 1000 + 1000);
    expect(ms).toBeGreaterThan(25 * 60 * 1000);
  });

  it('when the web login passes an email with a NUL character, then 401, not a database error', async () => {
    await expect(
      ctx.deps.services.auth.authenticate(`${team.worker.email}\u0000`, DEFAULT_PASSWORD, '::1'),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('when an unknown user logs out, then 204 all the same', async () => {
    expect((await request(ctx.app).delete('/api/session')).status).toBe(204);
  });
});

/** The session id inside a signed express-session cookie ("s:<sid>.<signature>"). */
function decodeSid(cookie: string): string {
  const value = decodeURIComponent(cookie.split('=')[1]);
  return value.slice(2, value.lastIndexOf('.'));
}

describe('two apps in one process', () => {
  it('when the first app is closed, then sessions of the second still resolve their user', async () => {
    const team = await createTeam();
    const first = await createTestContext();
    const second = await createTestContext();
    try {
      await loginAs(first.app, team.worker.email);
      await first.close();
      const agent = await loginAs(second.app, team.worker.email);
      const res = await agent.get('/api/me');
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(team.worker.id);
    } finally {
      await second.close();
    }
  });
});

describe('session cookie in production', () => {
  it('is Secure, HttpOnly and SameSite=Lax behind an HTTPS proxy', async () => {
    const team = await createTeam();
    const ctx = await createTestContext({
      env: {
        NODE_ENV: 'production',
        ENCRYPTION_KEY: 'c3'.repeat(32),
        SESSION_SECRET: 'a production secret of more than thirty-two characters',
        LINK_SECRET: 'another production secret of more than thirty-two chars',
        SMTP_URL: 'smtp://127.0.0.1:2525',
        MAIL_FROM: 'CCAS <no-reply@ccas.example>',
        PUBLIC_URL: 'https://aller-vers.example',
      },
    });
    try {
      const res = await request(ctx.app)
        .post('/api/session')
        .set('X-Forwarded-Proto', 'https')
        .send({ email: team.worker.email, password: DEFAULT_PASSWORD });
      expect(res.status).toBe(200);
      const raw = ([] as string[]).concat(res.headers['set-cookie'] as unknown as string[]);
      const cookie = raw.find((c) => c.startsWith('av.sid='))!;
      expect(cookie).toMatch(/;\s*Secure/i);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    } finally {
      await ctx.close();
    }
  });
});

describe('the idle expiry written at most once a minute', () => {
  it('when requests follow within a minute, then the stored expiry is not rewritten; after a minute it moves, and a deleted session still ends at the next request', async () => {
    const clock = fixedClock('2026-12-01T09:00:00Z');
    const ctx = await createTestContext({ clock });
    try {
      const team = await createTeam();
      const res = await request(ctx.app)
        .post('/api/session')
        .send({ email: team.worker.email, password: DEFAULT_PASSWORD });
      const cookie = sessionCookie(res);
      const sid = decodeSid(cookie);
      const me = () => request(ctx.app).get('/api/me').set('Cookie', cookie);
      // A stored expiry 5 minutes away: a write would put it 30 minutes away.
      const soon = new Date(Date.now() + 5 * 60_000);
      await testKnex()('sessions').where({ sid }).update({ expire: soon });
      const expire = async () =>
        new Date((await testKnex()('sessions').where({ sid }).first('expire')).expire).getTime();

      clock.advance(TOUCH_INTERVAL_MS - 1000);
      expect((await me()).status).toBe(200);
      expect(await expire()).toBe(soon.getTime());

      clock.advance(2000);
      expect((await me()).status).toBe(200);
      expect(await expire()).toBeGreaterThan(Date.now() + 29 * 60_000);

      // Revocation does not wait for a write: the row is read on every request.
      await testKnex()('sessions').where({ sid }).del();
      expect((await me()).status).toBe(401);
    } finally {
      await ctx.close();
    }
  });
});

describe('expired sessions', () => {
  it('when a web process starts with cleanup on, then expired sessions are deleted and live ones kept', async () => {
    const past = new Date(Date.now() - 3600_000);
    const future = new Date(Date.now() + 3600_000);
    await testKnex()('sessions').insert([
      { sid: 'expired-session', sess: JSON.stringify({ cookie: {} }), expire: past },
      { sid: 'live-session', sess: JSON.stringify({ cookie: {} }), expire: future },
    ]);
    const ctx = await createTestContext({ env: { SESSION_CLEANUP_INTERVAL_MS: '60000' } });
    try {
      let left: string[] = [];
      for (let i = 0; i < 50; i++) {
        left = (await testKnex()('sessions')
          .whereIn('sid', ['expired-session', 'live-session'])
          .pluck('sid')) as string[];
        if (!left.includes('expired-session')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(left).toEqual(['live-session']);
    } finally {
      await ctx.close();
    }
  });
});
