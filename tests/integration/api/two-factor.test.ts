import request from 'supertest';
import { fixedClock } from '../../../server/lib/clock';
import { totpCode } from '../../../server/features/two-factor/totp';
import {
  createTestContext,
  DEFAULT_PASSWORD,
  loginAs,
  type TestContext,
} from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createStructure, createTeam, createUser } from '../../setup/factories';
import { auditRows, sessionCookie } from './helpers';

/** Tuesday morning, Paris; each test moves the clock on by whole 30-second steps. */
const START = '2026-11-24T10:00:00+01:00';

describe('two-factor authentication (TOTP) through the API', () => {
  const clock = fixedClock(START);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  const login = (email: string, extra: Record<string, unknown> = {}) =>
    request(ctx.app)
      .post('/api/session')
      .send({ email, password: DEFAULT_PASSWORD, ...extra });
  const nextStep = () => clock.advance(30_000);

  /** Enrols the user through the API; returns the secret and the recovery codes. */
  async function enrol(email: string) {
    const agent = await loginAs(ctx.app, email);
    const start = await agent.post('/api/me/two-factor');
    expect(start.status).toBe(201);
    const done = await agent
      .post('/api/me/two-factor/confirm')
      .send({ code: totpCode(start.body.secret, clock.now()) });
    expect(done.status).toBe(200);
    return {
      agent,
      secret: start.body.secret as string,
      codes: done.body.recoveryCodes as string[],
    };
  }

  it('when a user enrols, then the QR code is an SVG, a wrong first code is 401, the right one answers 10 recovery codes, and the secret is stored encrypted', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const agent = await loginAs(ctx.app, user.email);
    const before = await agent.get('/api/me/two-factor');
    expect(before.body).toEqual({
      enabled: false,
      enabledAt: null,
      recoveryCodesLeft: 0,
      required: false,
    });

    const start = await agent.post('/api/me/two-factor');
    expect(start.status).toBe(201);
    expect(start.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/aller-vers:/);
    expect(start.body.otpauthUri).toContain(`secret=${start.body.secret}`);
    const svg = Buffer.from(start.body.qrCode.split(',')[1], 'base64').toString();
    expect(start.body.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    const good = totpCode(start.body.secret, clock.now());
    const wrong = good === '000000' ? '111111' : '000000';
    const refused = await agent.post('/api/me/two-factor/confirm').send({ code: wrong });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('totp_invalid');

    const ok = await agent.post('/api/me/two-factor/confirm').send({ code: good });
    expect(ok.status).toBe(200);
    expect(ok.body.recoveryCodes).toHaveLength(10);
    expect(new Set(ok.body.recoveryCodes).size).toBe(10);
    for (const c of ok.body.recoveryCodes) expect(c).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);

    const row = await testKnex()('users').where({ id: user.id }).first();
    expect(row.totp_secret).toMatch(/^v1\./);
    expect(row.totp_secret).not.toContain(start.body.secret);
    expect(row.totp_pending_secret).toBeNull();
    const hashes = await testKnex()('recovery_codes').where({ user_id: user.id });
    expect(hashes).toHaveLength(10);
    const stored = JSON.stringify(hashes);
    for (const c of ok.body.recoveryCodes) expect(stored).not.toContain(c.replace(/-/g, ''));

    const after = await agent.get('/api/me/two-factor');
    expect(after.body).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });
    expect(
      await auditRows({ subject_id: user.id, action: 'user.two_factor_enabled' }),
    ).toHaveLength(1);
    // Enrolling again while on is a conflict, not a silent new secret.
    expect((await agent.post('/api/me/two-factor')).status).toBe(409);
  });

  it('when a user with a second factor logs in, then the password alone is 401 totp_required, a wrong code 401 totp_invalid, the right code 200, and the same code again 401', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { secret } = await enrol(user.email);
    nextStep();

    const noCode = await login(user.email);
    expect(noCode.status).toBe(401);
    expect(noCode.body.error.code).toBe('totp_required');
    expect(noCode.headers['set-cookie'] ?? []).toHaveLength(0);

    const code = totpCode(secret, clock.now());
    const wrong = await login(user.email, { totp: code === '123456' ? '654321' : '123456' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('totp_invalid');

    const ok = await login(user.email, { totp: code });
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(user.id);
    const me = await request(ctx.app).get('/api/me').set('Cookie', sessionCookie(ok));
    expect(me.status).toBe(200);

    // The same code, still within its 30 seconds: refused (replay).
    const replay = await login(user.email, { totp: code });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('totp_invalid');
    // The enrolment's own code cannot be replayed either, nor an older step's.
    nextStep();
    expect((await login(user.email, { totp: totpCode(secret, clock.now()) })).status).toBe(200);

    const failures = await auditRows({ subject_id: user.id, action: 'login_failed' });
    expect(failures.map((r) => r.details?.reason)).toEqual(['totp', 'totp']);
  });

  it('when the same code is sent by two logins at once, then exactly one gets in', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { secret } = await enrol(user.email);
    nextStep();
    const code = totpCode(secret, clock.now());
    const answers = await Promise.all([
      login(user.email, { totp: code }),
      login(user.email, { totp: code }),
      login(user.email, { totp: code }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('when a recovery code is used to log in, then it works once and never again', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { agent, codes } = await enrol(user.email);
    const first = await login(user.email, { totp: codes[0].toUpperCase() });
    expect(first.status).toBe(200);
    const again = await login(user.email, { totp: codes[0] });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('totp_invalid');
    expect((await agent.get('/api/me/two-factor')).body.recoveryCodesLeft).toBe(9);
  });

  it('when wrong codes are sent, then they count in the login throttle: 429 once the account is over its limit', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { secret } = await enrol(user.email);
    nextStep();
    const code = totpCode(secret, clock.now());
    const wrong = code === '999999' ? '888888' : '999999';
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1)
      statuses.push((await login(user.email, { totp: wrong })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    // Even the right code waits for the window: guessing codes is bounded.
    expect((await login(user.email, { totp: code })).status).toBe(429);
  });

  it('when a user with a second factor logs in 105 times from one address, the password first then with the code, then every login succeeds: right attempts cost the address nothing', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { secret } = await enrol(user.email);
    // Past the 100 attempts an address is allowed in 15 minutes, were any login to cost it one.
    for (let i = 0; i < 105; i += 1) {
      nextStep();
      const first = await login(user.email);
      expect([i, first.status, first.body.error?.code]).toEqual([i, 401, 'totp_required']);
      const ok = await login(user.email, { totp: totpCode(secret, clock.now()) });
      expect([i, ok.status]).toEqual([i, 200]);
    }
  }, 180_000);

  it('when wrong codes are sent to turn the factor off or renew the recovery codes, then past 10 the next is 429 even with the right code, and the factor stays on', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { agent, secret, codes } = await enrol(user.email);
    nextStep();
    const code = totpCode(secret, clock.now());
    const wrong = code === '999999' ? '888888' : '999999';
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1)
      statuses.push(
        (
          await agent
            .post(i % 2 ? '/api/me/two-factor/disable' : '/api/me/two-factor/recovery-codes')
            .send({ code: wrong })
        ).status,
      );
    expect(statuses).toEqual(Array(10).fill(401));
    const off = await agent.post('/api/me/two-factor/disable').send({ code });
    expect(off.status).toBe(429);
    expect(off.body.error.code).toBe('too_many_requests');
    expect(Number(off.headers['retry-after'])).toBeGreaterThan(0);
    const renew = await agent.post('/api/me/two-factor/recovery-codes').send({ code: codes[0] });
    expect(renew.status).toBe(429);
    expect((await agent.get('/api/me/two-factor')).body).toMatchObject({
      enabled: true,
      recoveryCodesLeft: 10,
    });
    expect(await auditRows({ subject_id: user.id, action: 'user.two_factor_disabled' })).toEqual(
      [],
    );

    // Counted per user: a colleague's codes are not held back, and a right code forgets the
    // wrong ones before it.
    const other = await createUser(team.structure.id, 'worker');
    const theirs = await enrol(other.email);
    nextStep();
    for (let i = 0; i < 9; i += 1)
      await theirs.agent.post('/api/me/two-factor/disable').send({ code: wrong }).expect(401);
    await theirs.agent
      .post('/api/me/two-factor/recovery-codes')
      .send({ code: totpCode(theirs.secret, clock.now()) })
      .expect(200);
    for (let i = 0; i < 10; i += 1)
      await theirs.agent.post('/api/me/two-factor/disable').send({ code: wrong }).expect(401);
  });

  it('when the user disables it with a code, then logging in takes the password only; a wrong code does not disable it', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { agent, secret } = await enrol(user.email);
    nextStep();
    const bad = await agent
      .post('/api/me/two-factor/disable')
      .send({ code: 'abcd-efgh-ijkl-mnop' });
    expect(bad.status).toBe(401);
    const renewed = await agent
      .post('/api/me/two-factor/recovery-codes')
      .send({ code: totpCode(secret, clock.now()) });
    expect(renewed.status).toBe(200);
    expect(renewed.body.recoveryCodes).toHaveLength(10);
    nextStep();
    const off = await agent
      .post('/api/me/two-factor/disable')
      .send({ code: totpCode(secret, clock.now()) });
    expect(off.status).toBe(204);
    expect((await login(user.email)).status).toBe(200);
    expect(await testKnex()('recovery_codes').where({ user_id: user.id })).toHaveLength(0);
    expect(
      await auditRows({ subject_id: user.id, action: 'user.two_factor_disabled' }),
    ).toHaveLength(1);
  });

  it('when an admin resets the factor of a user who lost their device, then it is audited, the user’s sessions end (401 at their next request) and the user logs in with the password; another structure’s admin gets 404', async () => {
    const user = await createUser(team.structure.id, 'manager');
    // A session opened elsewhere, then the one with the device now lost.
    const elsewhere = await loginAs(ctx.app, user.email);
    const { agent: device } = await enrol(user.email);
    expect((await elsewhere.get('/api/me')).status).toBe(200);
    const otherAdmin = await createUser((await createStructure()).id, 'admin');
    const foreign = await (
      await loginAs(ctx.app, otherAdmin.email)
    ).post(`/api/users/${user.id}/two-factor/reset`);
    expect(foreign.status).toBe(404);
    const worker = await loginAs(ctx.app, team.worker.email);
    expect((await worker.post(`/api/users/${user.id}/two-factor/reset`)).status).toBe(403);
    // Refused resets end nothing.
    expect((await device.get('/api/me')).status).toBe(200);

    const admin = await loginAs(ctx.app, team.admin.email);
    const reset = await admin.post(`/api/users/${user.id}/two-factor/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ enabled: false });
    expect((await device.get('/api/me')).status).toBe(401);
    expect((await elsewhere.get('/api/me')).status).toBe(401);
    // The admin's own session goes on.
    expect((await admin.get('/api/users')).status).toBe(200);
    expect((await login(user.email)).status).toBe(200);
    const audit = await auditRows({ subject_id: user.id, action: 'user.two_factor_reset' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: team.admin.id, actor_role: 'admin' });
  });

  it('when an admin resets the factor while a request of the lost device is in flight, then the session it writes back afterwards still ends at the next request', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { agent: device } = await enrol(user.email);
    expect((await device.get('/api/me')).status).toBe(200);
    // The device's session as a request that read it before the reset holds it, to save it
    // again when it ends (express-session writes a session back after its request).
    const sessionsOf = (id: string) =>
      testKnex()('sessions').whereRaw("(sess::jsonb -> 'passport' -> 'user' ->> 'id') = ?", [id]);
    const inFlight = await sessionsOf(user.id);
    expect(inFlight).not.toHaveLength(0);

    const admin = await loginAs(ctx.app, team.admin.email);
    expect((await admin.post(`/api/users/${user.id}/two-factor/reset`)).status).toBe(200);
    expect(await sessionsOf(user.id)).toHaveLength(0);
    await testKnex()('sessions').insert(inFlight);
    expect((await device.get('/api/me')).status).toBe(401);
  });

  it('when the structure requires a second factor, then a manager without one gets 403 two_factor_enrolment_required until enrolled, and a worker is not concerned', async () => {
    const team2 = await createTeam();
    const admin = await loginAs(ctx.app, team2.admin.email);
    const settings = await admin.get('/api/settings');
    expect(settings.body.requireTwoFactor).toBe(false);
    const on = await admin
      .patch('/api/settings')
      .send({ version: settings.body.version, requireTwoFactor: true });
    expect(on.status).toBe(200);
    expect(on.body.requireTwoFactor).toBe(true);

    // The admin who turned it on is concerned too, from the next request.
    const blocked = await admin.get('/api/users');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('two_factor_enrolment_required');

    const manager = await loginAs(ctx.app, team2.manager.email);
    expect((await manager.get('/api/me')).status).toBe(200);
    const refused = await manager.get('/api/persons');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('two_factor_enrolment_required');
    expect((await manager.get('/api/me/two-factor')).body).toMatchObject({
      enabled: false,
      required: true,
    });

    const worker = await loginAs(ctx.app, team2.worker.email);
    expect((await worker.get('/api/persons')).status).toBe(200);

    const start = await manager.post('/api/me/two-factor');
    await manager
      .post('/api/me/two-factor/confirm')
      .send({ code: totpCode(start.body.secret, clock.now()) })
      .expect(200);
    expect((await manager.get('/api/persons')).status).toBe(200);
  });

  it('when the settings say something else than a boolean, then 400 naming requireTwoFactor', async () => {
    const admin = await loginAs(ctx.app, team.admin.email);
    const { version } = (await admin.get('/api/settings')).body;
    const res = await admin.patch('/api/settings').send({ version, requireTwoFactor: 'yes' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain('requireTwoFactor');
  });
});
