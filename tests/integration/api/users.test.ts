import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../../server/app';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { disableUser } from '../../../server/cli/commands';
import { USER_PASSWORD_EMAIL } from '../../../server/features/users/password-links';
import { hashPassword } from '../../../server/auth/passwords';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, testConfig, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { startSmtp, type ReceivedEmail } from '../referrals/smtp';
import { auditRows, type Agent } from './helpers';

// The hash is watched: a refused link must not cost one.
jest.mock('../../../server/auth/passwords', () => {
  const actual = jest.requireActual('../../../server/auth/passwords');
  return { ...actual, hashPassword: jest.fn(actual.hashPassword) };
});

const NOW = '2026-12-01T09:00:00Z';
const HOUR = 3600_000;
const STRONG = 'cheval agrafe batterie correcte 42';

/** The set-password link of an email's text. */
function tokenIn(email: ReceivedEmail): string {
  const m = /https?:\/\/\S+\/mot-de-passe\/([A-Za-z0-9_-]{43})/.exec(email.text);
  if (!m) throw new Error(`no set-password link in: ${email.text}`);
  return m[1];
}

describe('users API: invitations, set-password links, roles, teams, disabling, forgotten passwords', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let admin: Agent;
  let manager: Agent;
  let otherAdmin: Agent;

  /** Runs every pending set-password email through the real processor (as the worker would). */
  async function deliver(): Promise<void> {
    const rows = await testKnex()('deadlines').where({
      kind: USER_PASSWORD_EMAIL,
      status: 'pending',
    });
    for (const d of rows) await processDeadline(ctx.deps, processors, USER_PASSWORD_EMAIL, d.id);
  }
  const mailTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));
  const fields = (res: { body: { error: { details?: { field: string }[] } } }) =>
    (res.body.error.details ?? []).map((d) => d.field);

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ clock, env: { SMTP_URL: smtp.url } });
    [s, other] = await Promise.all([createTeam(), createTeam()]);
    [admin, manager, otherAdmin] = await Promise.all([
      loginAs(ctx.app, s.admin.email),
      loginAs(ctx.app, s.manager.email),
      loginAs(ctx.app, other.admin.email),
    ]);
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  describe('invitation', () => {
    let teamId: string;
    let invitedId: string;
    let token: string;

    beforeAll(async () => {
      teamId = (await admin.post('/api/teams').send({ name: 'Accueil' })).body.id;
    });

    it('when an admin invites a worker into a team, then 201 without a usable password, and one email with a link reaches them through SMTP', async () => {
      const res = await admin.post('/api/users').send({
        email: 'Nouvelle.Recrue@ccas.test',
        name: 'Nouvelle Recrue',
        role: 'worker',
        teamIds: [teamId],
      });
      expect(res.status).toBe(201);
      invitedId = res.body.id;
      expect(res.body).toMatchObject({
        role: 'worker',
        disabled: false,
        passwordSet: false,
        teams: [{ id: teamId, name: 'Accueil', isLead: false }],
      });
      expect(res.body).not.toHaveProperty('passwordHash');
      // Nothing leaves from the request: a deadline row, delivered by the job.
      expect(smtp.received).toHaveLength(0);
      await deliver();
      const [email] = mailTo('Nouvelle.Recrue@ccas.test');
      expect(email.subject).toContain('choisissez votre mot de passe');
      expect(email.text).toContain('Nouvelle Recrue');
      token = tokenIn(email);
      // Stored hashed only.
      const stored = await testKnex()('password_links').where({ user_id: invitedId });
      expect(stored).toHaveLength(1);
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(new Date(stored[0].expires_at).getTime()).toBe(new Date(NOW).getTime() + 48 * HOUR);
      expect(await auditRows({ action: 'user.invite', subject_id: invitedId })).toHaveLength(1);
      // The invitee cannot log in before choosing a password.
      const login = await request(ctx.app)
        .post('/api/session')
        .send({ email: 'Nouvelle.Recrue@ccas.test', password: '!invited' });
      expect(login.status).toBe(401);
    });

    it('when the password is too weak, then 400 on password and the link still works', async () => {
      const res = await request(ctx.app)
        .post('/api/password-links/use')
        .send({ token, password: 'motdepasse123' });
      expect(res.status).toBe(400);
      expect(fields(res)).toEqual(['password']);
      expect((await ctx.deps.services.users.linkState(token)).ok).toBe(true);
    });

    it('when the invitee sets a password, then they log in; the link cannot be used twice', async () => {
      const res = await request(ctx.app)
        .post('/api/password-links/use')
        .send({ token, password: STRONG });
      expect(res.status).toBe(200);
      expect((await loginAs(ctx.app, 'nouvelle.recrue@ccas.test', STRONG)).get).toBeDefined();
      const again = await request(ctx.app)
        .post('/api/password-links/use')
        .send({ token, password: `${STRONG} bis` });
      expect(again.status).toBe(422);
      expect(again.body.error.code).toBe('link_used');
      expect((await admin.get(`/api/users/${invitedId}`)).body.passwordSet).toBe(true);
    });

    it('when a link is older than 48 hours, then it has expired; just before, it works', async () => {
      await admin.post(`/api/users/${invitedId}/password-link`).expect(202);
      await deliver();
      const first = tokenIn(mailTo('Nouvelle.Recrue@ccas.test').at(-1)!);
      clock.advance(48 * HOUR - 1000);
      try {
        expect((await ctx.deps.services.users.linkState(first)).ok).toBe(true);
        clock.advance(2000);
        const res = await request(ctx.app)
          .post('/api/password-links/use')
          .send({ token: first, password: STRONG });
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('link_expired');
      } finally {
        clock.set(NOW);
      }
    });

    it('when a new link is sent, then the older one stops working', async () => {
      await admin.post(`/api/users/${invitedId}/password-link`).expect(202);
      await deliver();
      const older = tokenIn(mailTo('Nouvelle.Recrue@ccas.test').at(-1)!);
      await admin.post(`/api/users/${invitedId}/password-link`).expect(202);
      await deliver();
      const newer = tokenIn(mailTo('Nouvelle.Recrue@ccas.test').at(-1)!);
      const res = await request(ctx.app)
        .post('/api/password-links/use')
        .send({ token: older, password: STRONG });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('link_invalid');
      expect(
        (
          await request(ctx.app)
            .post('/api/password-links/use')
            .send({ token: newer, password: STRONG })
        ).status,
      ).toBe(200);
    });

    it('when a set-password link is opened, then the request log shows the path without the token', async () => {
      await admin.post(`/api/users/${invitedId}/password-link`).expect(202);
      await deliver();
      const token = tokenIn(mailTo('Nouvelle.Recrue@ccas.test').at(-1)!);
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      });
      const app = createApp({ ...ctx.deps, logger: pino({ level: 'info' }, sink) });
      expect((await request(app).get(`/mot-de-passe/${token}`)).status).toBe(200);
      const log = lines.join('');
      expect(log).toContain('/mot-de-passe/[token]');
      expect(log).not.toContain(token);
    });

    it('when a set-password token is unknown or used, then 404 or 422 before the password is checked or hashed', async () => {
      jest.mocked(hashPassword).mockClear();
      const use = (t: string, password: string) =>
        request(ctx.app).post('/api/password-links/use').send({ token: t, password });
      // A weak password is not even judged: the link is refused first.
      for (const password of [STRONG, 'motdepasse123']) {
        const unknown = await use('A'.repeat(43), password);
        expect(unknown.status).toBe(404);
        expect(unknown.body.error.code).toBe('link_invalid');
        const used = await use(token, password);
        expect(used.status).toBe(422);
        expect(used.body.error.code).toBe('link_used');
      }
      expect(hashPassword).not.toHaveBeenCalled();
    });

    it('when one address posts set-password tokens too often, then 429 with Retry-After; another address is not concerned, and a password set gives its point back', async () => {
      const from = (ip: string, t: string, password = STRONG) =>
        request(ctx.app)
          .post('/api/password-links/use')
          .set('X-Forwarded-For', ip)
          .send({ token: t, password });
      const unknown = 'B'.repeat(43);
      // A password set among the failures is not counted against the address.
      for (let i = 0; i < 19; i += 1)
        expect((await from('203.0.113.20', unknown)).status).toBe(404);
      await admin.post(`/api/users/${invitedId}/password-link`).expect(202);
      await deliver();
      const fresh = tokenIn(mailTo('Nouvelle.Recrue@ccas.test').at(-1)!);
      expect((await from('203.0.113.20', fresh)).status).toBe(200);
      expect((await from('203.0.113.20', unknown)).status).toBe(404);
      const over = await from('203.0.113.20', unknown);
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe('too_many_requests');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect((await from('203.0.113.21', unknown)).status).toBe(404);
    });

    it('when a delivery is repeated, then the email is sent once', async () => {
      await admin.post(`/api/users/${invitedId}/password-link`).expect(202);
      const [d] = await testKnex()('deadlines').where({
        kind: USER_PASSWORD_EMAIL,
        status: 'pending',
      });
      const before = smtp.received.length;
      expect(await processDeadline(ctx.deps, processors, USER_PASSWORD_EMAIL, d.id)).toBe('done');
      expect(await processDeadline(ctx.deps, processors, USER_PASSWORD_EMAIL, d.id)).toBe(
        'not_pending',
      );
      expect(smtp.received.length).toBe(before + 1);
    });
  });

  describe('validation and scope', () => {
    it('when the invitation is malformed, then 400 naming the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ email: 'pas-une-adresse', name: 'A', role: 'worker' }, 'email'],
        [{ email: 'a@b.test', name: '', role: 'worker' }, 'name'],
        [{ email: 'a@b.test', name: 'A', role: 'boss' }, 'role'],
        [{ email: 'a@b.test', name: 'A', role: 'partner' }, 'partnerId'],
        [{ email: 'a@b.test', name: 'A', role: 'observer', teamIds: [s.structure.id] }, 'teamIds'],
        [{ email: 'a@b.test', name: 'A', role: 'worker', password: 'x' }, 'password'],
      ];
      for (const [body, field] of cases) {
        const res = await admin.post('/api/users').send(body);
        expect(res.status).toBe(400);
        expect(fields(res)).toContain(field);
      }
      expect((await admin.patch(`/api/users/${s.worker.id}`).send({ role: 'chef' })).status).toBe(
        400,
      );
    });

    it('when the address is taken, in any case, then 409', async () => {
      const res = await admin
        .post('/api/users')
        .send({ email: s.worker.email.toUpperCase(), name: 'Double', role: 'worker' });
      expect(res.status).toBe(409);
    });

    it('when the same invitation is sent twice at once, then one 201 and one 409, never a 500; for a partner’s staff too', async () => {
      const partner = await createPartner(testKnex(), 'Épicerie', s.structure.id);
      const bodies = [
        (i: number) => ({ email: `double.${i}@ccas.test`, name: 'Double', role: 'worker' }),
        (i: number) => ({
          email: `Partenaire.${i}@partner.test`,
          name: 'Double',
          role: 'partner',
          partnerId: partner.id,
        }),
      ];
      for (const body of bodies)
        for (let i = 0; i < 5; i++) {
          // The second one in upper case: the address is unique whatever its case.
          const [a, b] = await Promise.all([
            admin.post('/api/users').send(body(i)),
            admin.post('/api/users').send({ ...body(i), email: body(i).email.toUpperCase() }),
          ]);
          expect([a.status, b.status].sort()).toEqual([201, 409]);
          expect([a, b].find((r) => r.status === 409)!.body.error.code).toBe('conflict');
        }
    });

    it('when someone other than an admin manages users, then 403', async () => {
      expect((await manager.get('/api/users')).status).toBe(403);
      expect(
        (await manager.post('/api/users').send({ email: 'x@y.test', name: 'X', role: 'worker' }))
          .status,
      ).toBe(403);
      expect(
        (await manager.patch(`/api/users/${s.worker.id}`).send({ disabled: true })).status,
      ).toBe(403);
      expect((await manager.post(`/api/users/${s.worker.id}/password-link`)).status).toBe(403);
    });

    it('when an admin of another structure reads or changes a user, then 404', async () => {
      expect((await otherAdmin.get(`/api/users/${s.worker.id}`)).status).toBe(404);
      expect(
        (await otherAdmin.patch(`/api/users/${s.worker.id}`).send({ disabled: true })).status,
      ).toBe(404);
      expect((await otherAdmin.post(`/api/users/${s.worker.id}/password-link`)).status).toBe(404);
      const list = await otherAdmin.get('/api/users');
      expect(list.body.items.map((u: { id: string }) => u.id)).not.toContain(s.worker.id);
    });

    it('when a user is given a team of another structure, then 422', async () => {
      const foreignTeam = (await otherAdmin.post('/api/teams').send({ name: 'Ailleurs' })).body.id;
      const res = await admin.patch(`/api/users/${s.worker.id}`).send({ teamIds: [foreignTeam] });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('team_not_found');
    });

    it('when an admin tries to disable themselves, then 422', async () => {
      const res = await admin.patch(`/api/users/${s.admin.id}`).send({ disabled: true });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('self_lockout');
    });

    it('when two admins demote or disable each other at once, then one change lands and the other is 422 last_admin: the structure keeps an enabled admin', async () => {
      // Through the service: over HTTP, the change that lands first ends the other admin's
      // sessions, and their request might then be refused before it reaches the rule.
      const { users } = ctx.deps.services;
      for (const change of [{ role: 'worker' as const }, { disabled: true }]) {
        const own = await createTeam();
        const second = await createUser(own.structure.id, 'admin');
        const actor = (u: { id: string; name: string; email: string }) => ({
          ...u,
          structureId: own.structure.id,
          role: 'admin' as const,
          partnerId: null,
        });
        const answers = await Promise.allSettled([
          users.update(actor(own.admin), second.id, change, { ip: null }),
          users.update(actor(second), own.admin.id, change, { ip: null }),
        ]);
        expect(answers.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        const refused = answers.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(refused.reason).toMatchObject({ status: 422, code: 'last_admin' });
        const admins = await testKnex()('users')
          .where({ structure_id: own.structure.id, role: 'admin' })
          .whereNull('disabled_at');
        expect(admins).toHaveLength(1);
      }
    });

    it('when a partner user is invited for a partner of the structure, then 201; for another structure’s partner, 422', async () => {
      const mine = await createPartner(testKnex(), 'Jardin', s.structure.id);
      const theirs = await createPartner(testKnex(), 'Ailleurs', other.structure.id);
      const ok = await admin.post('/api/users').send({
        email: 'jardin@partner.test',
        name: 'Jardinière',
        role: 'partner',
        partnerId: mine.id,
      });
      expect(ok.status).toBe(201);
      expect(ok.body.partnerId).toBe(mine.id);
      const list = await admin.get(`/api/users?partnerId=${mine.id}`);
      expect(list.body.items.map((u: { id: string }) => u.id)).toEqual([ok.body.id]);
      const refused = await admin.post('/api/users').send({
        email: 'autre@partner.test',
        name: 'Autre',
        role: 'partner',
        partnerId: theirs.id,
      });
      expect(refused.status).toBe(422);
    });
  });

  describe('role, teams and disabling', () => {
    it('when a worker becomes a manager, then the next request has the new role, and their teams follow', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const teamId = (await admin.post('/api/teams').send({ name: 'Équipe mobile' })).body.id;
      const agent = await loginAs(ctx.app, u.email);
      const res = await admin
        .patch(`/api/users/${u.id}`)
        .send({ role: 'manager', teamIds: [teamId] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ role: 'manager', teams: [{ id: teamId }] });
      // A role change ends their sessions: they log in again with the new role.
      expect((await agent.get('/api/me')).status).toBe(401);
      const again = await loginAs(ctx.app, u.email);
      expect((await again.get('/api/me')).body.user.role).toBe('manager');
      expect((await again.get('/api/backlog')).status).toBe(200);
    });

    it('when a user is saved with the role they already have (as their page does), then their sessions live on; a real role change still ends them', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const teamId = (await admin.post('/api/teams').send({ name: 'Équipe du matin' })).body.id;
      await admin
        .patch(`/api/users/${u.id}`)
        .send({ teamIds: [teamId] })
        .expect(200);
      const agent = await loginAs(ctx.app, u.email);
      const shown = (await admin.get(`/api/users/${u.id}`)).body;
      const saved = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Nom corrigé', role: 'worker', teamIds: [teamId], version: shown.version });
      expect(saved.status).toBe(200);
      expect(saved.body).toMatchObject({ name: 'Nom corrigé', role: 'worker' });
      expect((await agent.get('/api/me')).status).toBe(200);
      const promoted = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Nom corrigé', role: 'manager', teamIds: [teamId] });
      expect(promoted.status).toBe(200);
      expect((await agent.get('/api/me')).status).toBe(401);
    });

    it('when a worker is made observer, then what they were told about persons is gone, and a notice still meant for them is not written; a worker made manager keeps theirs', async () => {
      const [observer, manager] = [
        await createUser(s.structure.id, 'worker'),
        await createUser(s.structure.id, 'worker'),
      ];
      // A notice as the follow-up reminders write one: about a person, naming them.
      const notify = (recipientId: string, dueMoment: string) =>
        ctx.deps.knex.transaction((trx) =>
          ctx.deps.services.notifications.notifyInTransaction(trx, {
            structureId: s.structure.id,
            recipientId,
            kind: 'follow_up.due',
            subjectType: 'follow_up',
            subjectId: crypto.randomUUID(),
            dueMoment: new Date(dueMoment),
            title: 'Suivi à faire : rappeler au sujet de l’AAH',
            body: 'Pour : Jeanne Dupont',
          }),
        );
      const held = async (recipientId: string) =>
        Number(
          (
            await testKnex()('notifications').where({ recipient_id: recipientId }).count('* as n')
          )[0].n,
        );
      for (const u of [observer, manager]) {
        expect(await notify(u.id, NOW)).toEqual(expect.any(String));
        expect(await held(u.id)).toBe(1);
      }

      expect(
        (await admin.patch(`/api/users/${observer.id}`).send({ role: 'observer' })).status,
      ).toBe(200);
      expect((await admin.patch(`/api/users/${manager.id}`).send({ role: 'manager' })).status).toBe(
        200,
      );
      expect(await held(observer.id)).toBe(0);
      expect(await held(manager.id)).toBe(1);
      // A follow-up still assigned to them falls due: nothing is written for the observer.
      expect(await notify(observer.id, '2026-12-02T09:00:00Z')).toBeNull();
      expect(await held(observer.id)).toBe(0);
      expect(await notify(manager.id, '2026-12-02T09:00:00Z')).toEqual(expect.any(String));
      const seen = await loginAs(ctx.app, observer.email);
      expect((await seen.get('/api/notifications')).body).toMatchObject({ items: [], total: 0 });
    });

    it('when a manager who leads a team becomes a worker, then they no longer lead it but stay a member of the teams given', async () => {
      const m = await createUser(s.structure.id, 'manager');
      const team = (
        await admin.post('/api/teams').send({ name: 'Quartier Monplaisir', managerIds: [m.id] })
      ).body;
      expect(team.managers.map((u: { id: string }) => u.id)).toEqual([m.id]);
      const res = await admin
        .patch(`/api/users/${m.id}`)
        .send({ role: 'worker', teamIds: [team.id] });
      expect(res.status).toBe(200);
      const after = (await admin.get(`/api/teams/${team.id}`)).body;
      expect(after.managers).toEqual([]);
      expect(after.members.map((u: { id: string }) => u.id)).toEqual([m.id]);
    });

    it('when a change carries the version it was decided on and the user changed since, then 409 with the user as they are, and nothing changes', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const read = (await admin.get(`/api/users/${u.id}`)).body;
      const renamed = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Camille Martin', version: read.version });
      expect(renamed.status).toBe(200);
      expect(renamed.body.version).toBe(read.version + 1);
      const stale = await admin
        .patch(`/api/users/${u.id}`)
        .send({ role: 'manager', version: read.version });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('stale_version');
      expect(stale.body.error.details.current).toMatchObject({
        name: 'Camille Martin',
        role: 'worker',
        version: read.version + 1,
      });
      expect((await testKnex()('users').where({ id: u.id }).first()).role).toBe('worker');
    });

    it('when a team changes and a user changes at once, many times, then every change lands and the versions count them', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const team = (await admin.post('/api/teams').send({ name: 'Équipe du soir' })).body;
      const before = {
        team: (await admin.get(`/api/teams/${team.id}`)).body.version,
        user: (await admin.get(`/api/users/${u.id}`)).body.version,
      };
      for (let i = 0; i < 10; i++) {
        const [t, v] = await Promise.all([
          admin.patch(`/api/teams/${team.id}`).send({ memberIds: i % 2 ? [] : [u.id] }),
          admin.patch(`/api/users/${u.id}`).send({ teamIds: i % 2 ? [team.id] : [] }),
        ]);
        expect([t.status, v.status]).toEqual([200, 200]);
      }
      // Each team change moved the team, and the user when it added or removed them; each user
      // change moved the user, and the team when it added or removed them (which of the two ran
      // first decides whether the other changed anything).
      const teamAfter = (await admin.get(`/api/teams/${team.id}`)).body.version;
      const userAfter = (await admin.get(`/api/users/${u.id}`)).body.version;
      expect(teamAfter - before.team).toBeGreaterThanOrEqual(10);
      expect(userAfter - before.user).toBeGreaterThanOrEqual(10);
      expect(teamAfter - before.team + (userAfter - before.user)).toBeLessThanOrEqual(40);
    });

    it('when a team page adds a user, then a user form read before answers 409 rather than taking them out again', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const [north, south] = await Promise.all([
        admin.post('/api/teams').send({ name: 'Nord', memberIds: [u.id] }),
        admin.post('/api/teams').send({ name: 'Sud' }),
      ]);
      const shown = (await admin.get(`/api/users/${u.id}`)).body;
      const added = await admin
        .patch(`/api/teams/${south.body.id}`)
        .send({ memberIds: [u.id], version: south.body.version });
      expect(added.status).toBe(200);
      const stale = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Renommé', teamIds: [north.body.id], version: shown.version });
      expect(stale.status).toBe(409);
      expect(
        stale.body.error.details.current.teams.map((t: { id: string }) => t.id).sort(),
      ).toEqual([north.body.id, south.body.id].sort());
      expect(await testKnex()('team_members').where({ user_id: u.id })).toHaveLength(2);
    });

    it('when only a user’s name changes, then their teams keep their versions; disabling them moves them (the teams list them no more)', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const team = (await admin.post('/api/teams').send({ name: 'Est', memberIds: [u.id] })).body;
      const version = async () => (await admin.get(`/api/teams/${team.id}`)).body.version;
      const v0 = await version();
      // The user page sends the role and the teams with every save.
      expect(
        (
          await admin
            .patch(`/api/users/${u.id}`)
            .send({ name: 'Nom seul', role: 'worker', teamIds: [team.id] })
        ).status,
      ).toBe(200);
      expect(await version()).toBe(v0);
      expect((await admin.patch(`/api/users/${u.id}`).send({ disabled: true })).status).toBe(200);
      expect(await version()).toBe(v0 + 1);
      expect((await admin.get(`/api/teams/${team.id}`)).body.members).toEqual([]);
    });

    it('when a user is disabled, then their session rows are deleted, they are refused at once and cannot log in; teams cannot be given to them', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const agent = await loginAs(ctx.app, u.email);
      expect((await agent.get('/api/me')).status).toBe(200);
      const countSessions = async () =>
        Number(
          (
            await testKnex()('sessions')
              .whereRaw("(sess::jsonb -> 'passport' -> 'user' ->> 'id') = ?", [u.id])
              .count('* as n')
          )[0].n,
        );
      expect(await countSessions()).toBe(1);
      const res = await admin.patch(`/api/users/${u.id}`).send({ disabled: true });
      expect(res.status).toBe(200);
      expect(res.body.disabled).toBe(true);
      expect(await countSessions()).toBe(0);
      expect((await agent.get('/api/me')).status).toBe(401);
      const login = await request(ctx.app)
        .post('/api/session')
        .send({ email: u.email, password: 'un mot de passe assez long' });
      expect(login.status).toBe(401);
      const teamId = (await admin.get('/api/teams')).body.items[0].id;
      const teams = await admin.patch(`/api/users/${u.id}`).send({ teamIds: [teamId] });
      expect(teams.status).toBe(422);
      expect(teams.body.error.code).toBe('user_disabled');
      const link = await admin.post(`/api/users/${u.id}/password-link`);
      expect(link.status).toBe(422);
      // Enabled again, with teams in the same change.
      const back = await admin
        .patch(`/api/users/${u.id}`)
        .send({ disabled: false, teamIds: [teamId] });
      expect(back.status).toBe(200);
      expect(back.body.teams.map((t: { id: string }) => t.id)).toEqual([teamId]);
    });
  });

  describe('a user who leaves the staff holding work', () => {
    const noticesOf = (recipientId: string) =>
      testKnex()('notifications').where({ recipient_id: recipientId, kind: 'user.left_with_work' });

    it('when a worker holding a follow-up and a file is disabled, then the manager leading their team gets one notice counting the work, and no other manager', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const lead = await createUser(s.structure.id, 'manager');
      await admin
        .post('/api/teams')
        .send({ name: 'Maraude', managerIds: [lead.id], memberIds: [u.id] })
        .expect(201);
      const worker = await loginAs(ctx.app, u.email);
      const person = (
        await worker
          .post('/api/persons')
          .send({ alias: 'Homme au chien', source: 'outreach', referentId: u.id })
          .expect(201)
      ).body;
      await worker
        .post(`/api/persons/${person.id}/follow-ups`)
        .send({ title: 'Rappeler', dueAt: '2026-12-10T09:00:00Z' })
        .expect(201);

      await admin.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      const [notice, ...more] = await noticesOf(lead.id);
      expect(more).toHaveLength(0);
      expect(notice).toMatchObject({ subject_type: 'user', subject_id: u.id, link: '/#depart' });
      expect(notice.body).toContain('1 suivi ouvert');
      expect(notice.body).toContain('1 dossier dont il ou elle est référent·e');
      expect(notice.body).not.toContain('Homme au chien');
      expect(await noticesOf(s.manager.id)).toHaveLength(0);
    });

    it("when the operator disables a team member holding a follow-up from the command line, then the team lead is told and the disable is audited as the operator's", async () => {
      const u = await createUser(s.structure.id, 'worker');
      const lead = await createUser(s.structure.id, 'manager');
      await admin
        .post('/api/teams')
        .send({ name: 'Maraude du matin', managerIds: [lead.id], memberIds: [u.id] })
        .expect(201);
      const worker = await loginAs(ctx.app, u.email);
      const person = (
        await worker
          .post('/api/persons')
          .send({ alias: 'Homme au chien', source: 'outreach', referentId: u.id })
          .expect(201)
      ).body;
      await worker
        .post(`/api/persons/${person.id}/follow-ups`)
        .send({ title: 'Rappeler', dueAt: '2026-12-10T09:00:00Z' })
        .expect(201);
      await disableUser(testKnex(), testConfig(), u.email);
      expect(await noticesOf(lead.id)).toEqual([
        expect.objectContaining({ kind: 'user.left_with_work', subject_id: u.id }),
      ]);
      expect(
        await testKnex()('audit_events').where({ action: 'user.update', subject_id: u.id }),
      ).toEqual([
        expect.objectContaining({
          actor_id: null,
          details: expect.objectContaining({ disabled: true, by: 'operator' }),
        }),
      ]);
    });

    it('when a worker holding a file is made observer, then the managers are told as well', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const lead = await createUser(s.structure.id, 'manager');
      await admin
        .post('/api/teams')
        .send({ name: 'Accueil du soir', managerIds: [lead.id], memberIds: [u.id] })
        .expect(201);
      await (
        await loginAs(ctx.app, u.email)
      )
        .post('/api/persons')
        .send({ alias: 'Femme au vélo', source: 'outreach', referentId: u.id })
        .expect(201);
      await admin.patch(`/api/users/${u.id}`).send({ role: 'observer' }).expect(200);
      expect(await noticesOf(lead.id)).toHaveLength(1);
    });

    /** A worker of a team led by a new manager, who referred a file whose référent is another worker. */
    async function requesterOfOneReferral(teamName: string) {
      const u = await createUser(s.structure.id, 'worker');
      const lead = await createUser(s.structure.id, 'manager');
      await admin
        .post('/api/teams')
        .send({ name: teamName, managerIds: [lead.id], memberIds: [u.id] })
        .expect(201);
      const worker = await loginAs(ctx.app, u.email);
      const partner = await createPartner(testKnex(), 'Épicerie solidaire', s.structure.id);
      const person = (
        await worker
          .post('/api/persons')
          .send({ alias: 'Femme au manteau', source: 'outreach', referentId: s.worker.id })
          .expect(201)
      ).body;
      await worker
        .post(`/api/persons/${person.id}/consents`)
        .send({ purpose: 'referral', partnerId: partner.id, method: 'oral', givenAt: NOW })
        .expect(201);
      await worker
        .post(`/api/persons/${person.id}/referrals`)
        .send({ partnerId: partner.id, reason: 'Aide alimentaire' })
        .expect(201);
      return { u, lead, worker, person };
    }

    it('when a worker holding only an open referral is disabled, then nobody is told of work to hand on: its answers go to the référent', async () => {
      const { u, lead } = await requesterOfOneReferral('Orientations seules');
      await admin.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      expect(await noticesOf(lead.id)).toHaveLength(0);
      expect(
        await testKnex()('notifications').where({ kind: 'user.left_with_work', subject_id: u.id }),
      ).toHaveLength(0);
    });

    it('when a worker holding a follow-up and an open referral is disabled, then the notice asks to hand on the follow-up and says where the referral’s answers now go', async () => {
      const { u, lead, worker, person } = await requesterOfOneReferral('Suivi et orientation');
      await worker
        .post(`/api/persons/${person.id}/follow-ups`)
        .send({ title: 'Rappeler', dueAt: '2026-12-10T09:00:00Z' })
        .expect(201);
      await admin.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      const [notice] = await noticesOf(lead.id);
      expect(notice.body).toBe(
        '1 suivi ouvert. Confiez ce travail depuis « Confier tout le travail d’une personne à une autre ». 1 orientation en cours reste à son nom : les réponses des partenaires vont désormais au ou à la référent·e de la personne, sinon aux cadres de ses équipes.',
      );
    });

    it('when a worker holding nothing is disabled, then nobody is told', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const lead = await createUser(s.structure.id, 'manager');
      await admin
        .post('/api/teams')
        .send({ name: 'Sans travail', managerIds: [lead.id], memberIds: [u.id] })
        .expect(201);
      await admin.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      expect(await noticesOf(lead.id)).toHaveLength(0);
      expect(
        await testKnex()('notifications').where({ kind: 'user.left_with_work', subject_id: u.id }),
      ).toHaveLength(0);
    });
  });

  describe('a disabled user', () => {
    it('when the operator disables a user from the command line, then an admin form read before answers 409 rather than enabling them again; their teams list them no more and their unused link is revoked', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const team = (await admin.post('/api/teams').send({ name: 'Ouest', memberIds: [u.id] })).body;
      await admin.post(`/api/users/${u.id}/password-link`).expect(202);
      const read = (await admin.get(`/api/users/${u.id}`)).body;
      // What `npm run cli -- users:disable --email …` runs.
      await disableUser(testKnex(), testConfig(), u.email);
      const stale = await admin
        .patch(`/api/users/${u.id}`)
        .send({ version: read.version, disabled: false });
      expect(stale.status).toBe(409);
      expect(stale.body.error.details.current).toMatchObject({ disabled: true });
      const after = (await admin.get(`/api/teams/${team.id}`)).body;
      expect(after.version).toBe(team.version + 1);
      expect(after.members).toEqual([]);
      const unused = await testKnex()('password_links')
        .where({ user_id: u.id })
        .whereNull('revoked_at');
      expect(unused).toEqual([]);
    });

    it('when a disabled user is saved with the teams they hold, or fewer, then 200; a team they do not hold is 422', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const [held, more] = await Promise.all(
        ['Équipe gardée', 'Équipe en plus'].map(
          async (name) => (await admin.post('/api/teams').send({ name })).body.id as string,
        ),
      );
      await admin
        .patch(`/api/users/${u.id}`)
        .send({ teamIds: [held] })
        .expect(200);
      await admin.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      // As their page saves: the name, the role and the teams ticked.
      const same = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Parti·e', role: 'worker', teamIds: [held] });
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ name: 'Parti·e', disabled: true, teams: [{ id: held }] });
      const added = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Parti·e', role: 'worker', teamIds: [held, more] });
      expect(added.status).toBe(422);
      expect(added.body.error).toMatchObject({
        code: 'user_disabled',
        details: { field: 'teamIds' },
      });
      const none = await admin
        .patch(`/api/users/${u.id}`)
        .send({ name: 'Parti·e', role: 'worker', teamIds: [] });
      expect(none.status).toBe(200);
      expect(none.body.teams).toEqual([]);
      expect((await admin.patch(`/api/users/${u.id}`).send({ teamIds: [held] })).status).toBe(422);
    });
  });

  describe('forgotten password', () => {
    it('when someone asks for a link, then the same answer whether or not the account exists, and only the account gets an email', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const known = await request(ctx.app).post('/api/password-reset').send({ email: u.email });
      const unknown = await request(ctx.app)
        .post('/api/password-reset')
        .send({ email: 'personne@nulle.part' });
      expect(known.status).toBe(202);
      expect(unknown.status).toBe(202);
      expect(unknown.body).toEqual(known.body);
      await deliver();
      const [email] = mailTo(u.email);
      expect(email.subject).toContain('nouveau mot de passe');
      expect(mailTo('personne@nulle.part')).toHaveLength(0);
      const res = await request(ctx.app)
        .post('/api/password-links/use')
        .send({ token: tokenIn(email), password: STRONG });
      expect(res.status).toBe(200);
      await loginAs(ctx.app, u.email, STRONG);
    });

    it('when PUBLIC_URL is configured with a trailing slash, then the emailed link has one slash and opens the page', async () => {
      const slashed = await createTestContext({
        clock,
        env: { SMTP_URL: smtp.url, PUBLIC_URL: 'http://127.0.0.1:3000/' },
      });
      try {
        const u = await createUser(s.structure.id, 'worker');
        await request(slashed.app).post('/api/password-reset').send({ email: u.email }).expect(202);
        const rows = await testKnex()('deadlines').where({
          kind: USER_PASSWORD_EMAIL,
          status: 'pending',
        });
        for (const d of rows)
          await processDeadline(slashed.deps, processors, USER_PASSWORD_EMAIL, d.id);
        const [email] = mailTo(u.email);
        const url = /(https?:\/\/\S+\/mot-de-passe\/[A-Za-z0-9_-]{43})/.exec(email.text)?.[1];
        expect(url).toBe(`http://127.0.0.1:3000/mot-de-passe/${tokenIn(email)}`);
        expect((await request(slashed.app).get(new URL(url!).pathname)).status).toBe(200);
      } finally {
        await slashed.close();
      }
    });

    it('when an invitee who has not chosen a password yet asks for a link, then the new email is still an invitation, and its link sets the password', async () => {
      const email = 'invitee.distraite@ccas.test';
      const invited = await admin
        .post('/api/users')
        .send({ email, name: 'Invitée Distraite', role: 'worker' });
      expect(invited.status).toBe(201);
      await deliver();
      expect((await request(ctx.app).post('/api/password-reset').send({ email })).status).toBe(202);
      await deliver();
      const [invitation, again] = mailTo(email);
      expect(again.subject).toBe(invitation.subject);
      expect(again.subject).toContain('choisissez votre mot de passe');
      expect(again.text).toContain("Un compte aller-vers vient d'être créé pour vous");
      // Not the reset wording, which tells them to ignore it and keep a password they never had.
      expect(again.text).not.toContain('votre mot de passe actuel reste valable');
      // The first invitation's link was replaced by this one, as any new link replaces the last.
      const live = await testKnex()('password_links')
        .where({ user_id: invited.body.id })
        .whereNull('revoked_at');
      expect(live.map((l) => l.purpose)).toEqual(['invite']);
      const res = await request(ctx.app)
        .post('/api/password-links/use')
        .send({ token: tokenIn(again), password: STRONG });
      expect(res.status).toBe(200);
      await loginAs(ctx.app, email, STRONG);
      const [set] = await auditRows({ action: 'user.password_set', subject_id: invited.body.id });
      expect(set.details).toMatchObject({ purpose: 'invite' });
    });

    it('when a disabled account asks, then the same answer and no email', async () => {
      const u = await createUser(s.structure.id, 'worker');
      await testKnex()('users').where({ id: u.id }).update({ disabled_at: new Date() });
      expect(
        (await request(ctx.app).post('/api/password-reset').send({ email: u.email })).status,
      ).toBe(202);
      await deliver();
      expect(mailTo(u.email)).toHaveLength(0);
    });

    it('when an address is asked for too often, then 429, for an unknown address exactly as for a known one', async () => {
      const u = await createUser(s.structure.id, 'worker');
      for (const address of [u.email, 'inconnu@nulle.part']) {
        for (let i = 0; i < 3; i += 1)
          expect(
            (await request(ctx.app).post('/api/password-reset').send({ email: address })).status,
          ).toBe(202);
        const over = await request(ctx.app).post('/api/password-reset').send({ email: address });
        expect(over.status).toBe(429);
        expect(over.body.error.code).toBe('too_many_requests');
      }
    });

    it('when the body is wrong, then 400 naming the field', async () => {
      const res = await request(ctx.app).post('/api/password-reset').send({});
      expect(res.status).toBe(400);
      expect(fields(res)).toEqual(['email']);
    });
  });
});
