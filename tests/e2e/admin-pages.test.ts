import crypto from 'node:crypto';
import request from 'supertest';
import { processDeadline } from '../../jobs/processor';
import { processors } from '../../jobs/registry';
import { passwordTokenFor, USER_PASSWORD_EMAIL } from '../../server/features/users/password-links';
import type { StructureSettings } from '../../server/features/settings/settings-schemas';
import { fixedClock } from '../../server/lib/clock';
import { SETTINGS_NUMBER_FIELDS } from '../../server/web/admin/admin-views';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createDistrict, createPartner, createTeam, createUser } from '../setup/factories';
import { startSmtp } from '../integration/referrals/smtp';
import { csrfOf, inputValue, versionOf } from './html';

/** The settings form as the page sends it, filled with `saved`, changed by `changes`. */
const settingsForm = (saved: StructureSettings, changes: Record<string, string>) => ({
  ...Object.fromEntries(SETTINGS_NUMBER_FIELDS.map((f) => [f, String(saved[f])])),
  digestTime: saved.digestTime,
  workingStart: saved.workingHours.start,
  workingEnd: saved.workingHours.end,
  alsaceMoselle: saved.alsaceMoselle ? '1' : '',
  ...changes,
});

type Agent = ReturnType<typeof request.agent>;
const STRONG = 'cheval agrafe batterie correcte 42';

/** Posts a form of the page at `from` with its CSRF token. */
async function postForm(
  agent: Agent,
  from: string,
  action: string,
  fields: Record<string, unknown>,
) {
  const page = await agent.get(from);
  return agent
    .post(action)
    .type('form')
    .send({ _csrf: csrfOf(page.text), ...fields });
}

describe('administration, homes and password pages', () => {
  let ctx: TestContext;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: Awaited<ReturnType<typeof createTeam>>;
  let admin: Agent;

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({
      clock: fixedClock('2026-12-01T09:00:00Z'),
      env: { SMTP_URL: smtp.url },
    });
    s = await createTeam();
    admin = await loginAs(ctx.app, s.admin.email);
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  describe('homes', () => {
    it('when any role opens the root, then they get their own home, never a 403', async () => {
      const partner = await createPartner(testKnex(), 'Banque', s.structure.id);
      const partnerUser = await createUser(s.structure.id, 'partner', { partnerId: partner.id });
      const cases: [string, number, string][] = [
        [s.worker.email, 200, 'Mes actions'],
        [s.manager.email, 200, 'Tableau de l’équipe'],
        [s.observer.email, 200, 'Observation sociale'],
        [s.admin.email, 303, '/admin'],
        [partnerUser.email, 303, '/orientations'],
      ];
      for (const [email, status, expected] of cases) {
        const agent = await loginAs(ctx.app, email);
        const res = await agent.get('/');
        expect(res.status).toBe(status);
        if (status === 303) {
          expect(res.headers.location).toBe(expected);
          expect((await agent.get(expected)).status).toBe(200);
        } else expect(res.text).toContain(expected);
      }
    });

    it('when the observer’s home is shown, then it holds no person data and links to notifications', async () => {
      const res = await (await loginAs(ctx.app, s.observer.email)).get('/');
      expect(res.text).toContain('href="/notifications"');
      expect(res.text).not.toContain('href="/personnes"');
    });

    it('when an admin opens the administration, then each area is linked', async () => {
      const res = await admin.get('/admin');
      expect(res.status).toBe(200);
      for (const href of [
        '/admin/utilisateurs',
        '/admin/equipes',
        '/admin/parametres',
        '/admin/partenaires',
        '/admin/droits',
        '/admin/quartiers',
      ])
        expect(res.text).toContain(`href="${href}"`);
    });

    it('when a worker or a manager opens an admin page, then 403', async () => {
      for (const email of [s.worker.email, s.manager.email]) {
        const agent = await loginAs(ctx.app, email);
        for (const path of [
          '/admin',
          '/admin/utilisateurs',
          '/admin/equipes',
          '/admin/parametres',
          '/admin/quartiers',
        ])
          expect((await agent.get(path)).status).toBe(403);
      }
    });
  });

  describe('users', () => {
    it('when an admin invites through the form, then the user is listed and receives the email', async () => {
      const teamId = (await admin.post('/api/teams').send({ name: 'Accueil' })).body.id;
      const res = await postForm(admin, '/admin/utilisateurs', '/admin/utilisateurs', {
        name: 'Inès Recrue',
        email: 'ines@ccas.test',
        role: 'worker',
        teamIds: teamId,
      });
      expect(res.status).toBe(303);
      const page = await admin.get(res.headers.location);
      expect(page.text).toContain('Invitation envoyée à ines@ccas.test');
      expect(page.text).toContain('Inès Recrue');
      const list = await admin.get('/admin/utilisateurs');
      expect(list.text).toContain('Invitation en attente');
      const [d] = await testKnex()('deadlines').where({
        kind: USER_PASSWORD_EMAIL,
        status: 'pending',
      });
      await processDeadline(ctx.deps, processors, USER_PASSWORD_EMAIL, d.id);
      expect(smtp.received.at(-1)!.to).toEqual(['ines@ccas.test']);
    });

    it('when the invitation form is wrong, then 400 with the errors by field and the values kept', async () => {
      const res = await postForm(admin, '/admin/utilisateurs', '/admin/utilisateurs', {
        name: 'Sans Adresse',
        email: 'pas une adresse',
        role: 'worker',
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('href="#email"');
      expect(res.text).toContain('value="Sans Adresse"');
      const taken = await postForm(admin, '/admin/utilisateurs', '/admin/utilisateurs', {
        name: 'Double',
        email: s.worker.email,
        role: 'worker',
      });
      expect(taken.status).toBe(400);
      expect(taken.text).toContain('Un compte utilise déjà cette adresse');
    });

    it('when an observer or an admin is invited with a team ticked, then 400 says only workers and managers belong to teams', async () => {
      const teamId = (await admin.post('/api/teams').send({ name: 'Veille sociale' })).body.id;
      for (const role of ['observer', 'admin']) {
        const res = await postForm(admin, '/admin/utilisateurs', '/admin/utilisateurs', {
          name: 'Sans terrain',
          email: `sans.terrain.${role}@ccas.test`,
          role,
          teamIds: teamId,
        });
        expect(res.status).toBe(400);
        expect(res.text).toContain(
          'Seuls les travailleur·ses sociaux·ales et les cadres font partie d’équipes',
        );
        expect(res.text).not.toContain('Choisissez des équipes de la structure');
      }
    });

    it('when an invitation is for the address of a user of the structure, then the refusal links to their page, saying to enable a disabled one again; another structure’s user is not shown', async () => {
      const gone = await createUser(s.structure.id, 'worker');
      await admin.patch(`/api/users/${gone.id}`).send({ disabled: true }).expect(200);
      const invite = (email: string) =>
        postForm(admin, '/admin/utilisateurs', '/admin/utilisateurs', {
          name: 'De retour',
          email: email.toUpperCase(),
          role: 'worker',
        });
      const disabled = await invite(gone.email);
      expect(disabled.status).toBe(400);
      expect(disabled.text).toContain('Un compte utilise déjà cette adresse électronique');
      expect(disabled.text).toContain(
        `<a href="/admin/utilisateurs/${gone.id}">réactivez-le depuis sa page</a>`,
      );
      const active = await invite(s.worker2.email);
      expect(active.status).toBe(400);
      expect(active.text).toContain(
        `<a href="/admin/utilisateurs/${s.worker2.id}">voir sa page</a>`,
      );
      const elsewhere = await createTeam();
      const foreign = await invite(elsewhere.worker.email);
      expect(foreign.status).toBe(400);
      expect(foreign.text).toContain('Un compte utilise déjà cette adresse électronique');
      expect(foreign.text).not.toContain(elsewhere.worker.id);
      // The partner accounts page says it the same way.
      const partner = await createPartner(testKnex(), 'Relais', s.structure.id);
      const path = `/admin/partenaires/${partner.id}/comptes`;
      const fromPartner = await postForm(admin, path, path, { name: 'X', email: gone.email });
      expect(fromPartner.status).toBe(400);
      expect(fromPartner.text).toContain(`href="/admin/utilisateurs/${gone.id}"`);
    });

    it('when an admin changes a role and disables a user from their page, then it applies and their session ends', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const agent = await loginAs(ctx.app, u.email);
      const path = `/admin/utilisateurs/${u.id}`;
      const role = await postForm(admin, path, path, { name: u.name, role: 'manager' });
      expect(role.status).toBe(303);
      expect((await testKnex()('users').where({ id: u.id }).first()).role).toBe('manager');
      const off = await postForm(admin, path, `${path}/acces`, { disabled: 'true' });
      expect(off.status).toBe(303);
      expect((await admin.get(path)).text).toContain('Le compte est désactivé');
      expect((await agent.get('/api/me')).status).toBe(401);
      // Any value but the two buttons' is refused and changes nothing (it once re-enabled).
      for (const disabled of ['1', '', 'TRUE']) {
        const odd = await postForm(admin, path, `${path}/acces`, { disabled });
        expect(odd.status).toBe(400);
        expect((await testKnex()('users').where({ id: u.id }).first()).disabled_at).not.toBeNull();
      }
    });

    it('when an admin disables a worker who still holds work, then the page says what they held and that their manager was told', async () => {
      const u = await createUser(s.structure.id, 'worker');
      await admin
        .post('/api/teams')
        .send({ name: 'Équipe de jour', managerIds: [s.manager.id], memberIds: [u.id] })
        .expect(201);
      const worker = await loginAs(ctx.app, u.email);
      const person = (
        await worker
          .post('/api/persons')
          .send({ alias: 'Au marché', source: 'outreach', referentId: u.id })
          .expect(201)
      ).body;
      for (const title of ['Rappeler', 'Accompagner'])
        await worker
          .post(`/api/persons/${person.id}/follow-ups`)
          .send({ title, dueAt: '2026-12-10T09:00:00Z' })
          .expect(201);
      const path = `/admin/utilisateurs/${u.id}`;
      const off = await postForm(admin, path, `${path}/acces`, { disabled: 'true' });
      expect(off.status).toBe(303);
      expect((await admin.get(path)).text).toContain(
        'Le compte est désactivé et ses sessions sont fermées. Cette personne avait encore 2 suivis ouverts et 1 dossier de référent·e : 1 cadre en est averti·e pour confier ce travail à quelqu’un d’autre.',
      );
      const notices = await (await loginAs(ctx.app, s.manager.email)).get('/notifications');
      expect(notices.text).toContain(`Le compte de ${u.name} est désactivé`);
      expect(notices.text).toContain('href="/#depart"');
    });

    it('when an admin demotes the only other admin while being demoted themselves, then 422: the page says the structure would be left without an admin', async () => {
      const own = await createTeam();
      const other = await createUser(own.structure.id, 'admin');
      const agent = await loginAs(ctx.app, own.admin.email);
      const path = `/admin/utilisateurs/${other.id}`;
      const page = await agent.get(path);
      // Another change holds the other admin's row and, meanwhile, demotes this one.
      const trx = await testKnex().transaction();
      await trx('users').where({ id: other.id }).forUpdate().first();
      await trx('users').where({ id: own.admin.id }).update({ role: 'worker' });
      const sent = agent
        .post(path)
        .type('form')
        .send({
          _csrf: csrfOf(page.text),
          version: versionOf(page.text),
          name: other.name,
          role: 'worker',
        })
        .then((r) => r);
      // Once the page's change waits for that row, the other change commits.
      const waiting = async () =>
        (
          await testKnex().raw(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
          )
        ).rows[0].n as number;
      for (let tries = 0; (await waiting()) === 0; tries += 1) {
        if (tries > 250) throw new Error('the page never waited for the row');
        await new Promise((r) => setTimeout(r, 20));
      }
      await trx.commit();
      const refused = await sent;
      expect(refused.status).toBe(422);
      expect(refused.text).toContain(
        'C’est le dernier compte administrateur actif de la structure : donnez d’abord ce rôle à quelqu’un d’autre',
      );
      expect((await testKnex()('users').where({ id: other.id }).first()).role).toBe('admin');
    });

    it('when an admin renames themselves from their own page, then they land on it signed in, not on the login page', async () => {
      const me = await createUser(s.structure.id, 'admin');
      const agent = await loginAs(ctx.app, me.email);
      const path = `/admin/utilisateurs/${me.id}`;
      const version = versionOf((await agent.get(path)).text);
      const res = await postForm(agent, path, path, {
        version,
        name: 'Nouveau nom',
        role: 'admin',
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(path);
      const page = await agent.get(path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Les changements sont enregistrés.');
      expect(page.text).toContain('Nouveau nom');
    });

    it('when a user is saved from a page read before another admin changed them, then 409 keeps what was typed beside what is saved now, in words', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const teamIds = await Promise.all(
        ['atelier du soir', 'Bus social'].map(
          async (name) =>
            (await admin.post('/api/teams').send({ name, memberIds: [u.id] })).body.id as string,
        ),
      );
      const path = `/admin/utilisateurs/${u.id}`;
      const version = versionOf((await admin.get(path)).text);
      await admin.patch(`/api/users/${u.id}`).send({ role: 'manager' });
      // The same teams ticked, in whatever order: not a difference.
      const res = await postForm(admin, path, path, {
        version,
        name: 'Nom corrigé',
        role: 'worker',
        teamIds: [...teamIds].reverse(),
      });
      expect(res.status).toBe(409);
      expect(res.text).toContain('Ce compte a été modifié pendant que vous le changiez');
      expect(res.text).toMatch(/<a href="#role">[^<]+<\/a> : « Cadre[^»]*»/);
      expect(inputValue(res.text, 'name')).toBe('Nom corrigé');
      expect(res.text).not.toContain('<a href="#teamIds">');
      expect(versionOf(res.text)).toBe(String(Number(version) + 1));
      const row = await testKnex()('users').where({ id: u.id }).first();
      expect(row).toMatchObject({ role: 'manager', name: u.name });
    });

    it('when a user form refused with a 400 is corrected and saved after another admin changed them, then 409, not their change undone', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const path = `/admin/utilisateurs/${u.id}`;
      const version = versionOf((await admin.get(path)).text);
      await admin.patch(`/api/users/${u.id}`).send({ role: 'manager' }).expect(200);
      const refused = await postForm(admin, path, path, {
        version,
        name: '   ',
        role: 'worker',
      });
      expect(refused.status).toBe(400);
      // The form keeps the version it was read at, not the one saved meanwhile.
      expect(versionOf(refused.text)).toBe(version);
      const corrected = await postForm(admin, path, path, {
        version: versionOf(refused.text),
        name: 'Nom corrigé',
        role: 'worker',
      });
      expect(corrected.status).toBe(409);
      expect(corrected.text).toContain('Ce compte a été modifié pendant que vous le changiez');
      expect(versionOf(corrected.text)).toBe(String(Number(version) + 1));
      expect(await testKnex()('users').where({ id: u.id }).first()).toMatchObject({
        role: 'manager',
        name: u.name,
      });
    });

    it('when a disabled user is saved from their page, then it is saved with the teams they hold', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const teamId = (
        await admin.post('/api/teams').send({ name: 'Équipe gardée', memberIds: [u.id] })
      ).body.id as string;
      await admin.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      const path = `/admin/utilisateurs/${u.id}`;
      const shown = await admin.get(path);
      expect(shown.text).toMatch(new RegExp(`value="${teamId}" checked`));
      const res = await postForm(admin, path, path, {
        version: versionOf(shown.text),
        name: 'Nom corrigé',
        role: 'worker',
        teamIds: teamId,
      });
      expect(res.status).toBe(303);
      expect(await testKnex()('users').where({ id: u.id }).first()).toMatchObject({
        name: 'Nom corrigé',
      });
      expect(await testKnex()('team_members').where({ user_id: u.id })).toHaveLength(1);
    });

    it('when a structure has no teams and a form sends one anyway, then the refusal is listed above the form, not linked to a field the page does not show', async () => {
      const bare = await createTeam();
      const agent = await loginAs(ctx.app, bare.admin.email);
      const u = await createUser(bare.structure.id, 'worker');
      await agent.patch(`/api/users/${u.id}`).send({ disabled: true }).expect(200);
      const path = `/admin/utilisateurs/${u.id}`;
      const page = await agent.get(path);
      expect(page.text).not.toContain('name="teamIds"');
      const refused = await postForm(agent, path, path, {
        version: versionOf(page.text),
        name: u.name,
        role: 'worker',
        teamIds: crypto.randomUUID(),
      });
      expect(refused.status).toBe(422);
      expect(refused.text).toContain('Ce compte est désactivé');
      expect(refused.text).not.toContain('href="#teamIds"');
      const invite = await postForm(agent, '/admin/utilisateurs', '/admin/utilisateurs', {
        name: 'Sans équipe',
        email: 'sans.equipe@ccas.test',
        role: 'worker',
        teamIds: crypto.randomUUID(),
      });
      expect(invite.status).toBe(400);
      expect(invite.text).toContain('Une des équipes choisies n’existe plus');
      expect(invite.text).not.toContain('href="#teamIds"');
    });

    it('when an admin of another structure opens a user page, then 404', async () => {
      const other = await createTeam();
      const agent = await loginAs(ctx.app, other.admin.email);
      expect((await agent.get(`/admin/utilisateurs/${s.worker.id}`)).status).toBe(404);
    });

    it('when an admin invites a partner’s staff from the partner’s accounts page, then the account belongs to that partner', async () => {
      const partner = await createPartner(testKnex(), 'Jardin', s.structure.id);
      const path = `/admin/partenaires/${partner.id}/comptes`;
      expect((await admin.get(`/admin/partenaires/${partner.id}`)).text).toContain(
        `href="${path}"`,
      );
      const res = await postForm(admin, path, path, {
        name: 'Jardinier',
        email: 'jardinier@partner.test',
      });
      expect(res.status).toBe(303);
      const row = await testKnex()('users').where({ email: 'jardinier@partner.test' }).first();
      expect(row).toMatchObject({ role: 'partner', partner_id: partner.id });
      expect((await admin.get(path)).text).toContain('Jardinier');
    });
  });

  describe('partners', () => {
    it('when a partner form read before another admin saved it is refused with a 400, then corrected, then 409, not their change undone', async () => {
      const partner = await createPartner(testKnex(), 'Épicerie solidaire', s.structure.id);
      const path = `/admin/partenaires/${partner.id}`;
      const version = versionOf((await admin.get(path)).text);
      // Another admin saves it after this form was read.
      const other = await postForm(admin, path, path, {
        version,
        name: 'Épicerie du quartier',
        email: partner.email,
      });
      expect(other.status).toBe(303);
      const refused = await postForm(admin, path, path, {
        version,
        name: '   ',
        email: partner.email,
      });
      expect(refused.status).toBe(400);
      expect(versionOf(refused.text)).toBe(version);
      const corrected = await postForm(admin, path, path, {
        version: versionOf(refused.text),
        name: 'Épicerie solidaire des Halles',
        email: partner.email,
      });
      expect(corrected.status).toBe(409);
      expect((await testKnex()('partners').where({ id: partner.id }).first()).name).toBe(
        'Épicerie du quartier',
      );
    });

    it('when a partner’s service form read before another admin saved it is refused with a 400, then corrected, then 409, not their change undone', async () => {
      const partner = await createPartner(testKnex(), 'Banque du cœur', s.structure.id);
      const [service] = await testKnex()('partner_services')
        .insert({
          partner_id: partner.id,
          name: 'Colis alimentaires',
          themes: ['equipement-et-alimentation--alimentation'],
        })
        .returning('*');
      const path = `/admin/partenaires/${partner.id}/services/${service.id}`;
      const themes = 'equipement-et-alimentation--alimentation';
      const version = versionOf((await admin.get(path)).text);
      // Another admin saves it after this form was read.
      const other = await postForm(admin, path, path, { version, name: 'Colis du mardi', themes });
      expect(other.status).toBe(303);
      const refused = await postForm(admin, path, path, { version, name: '   ', themes });
      expect(refused.status).toBe(400);
      expect(versionOf(refused.text)).toBe(version);
      const corrected = await postForm(admin, path, path, {
        version: versionOf(refused.text),
        name: 'Colis du jeudi',
        themes,
      });
      expect(corrected.status).toBe(409);
      expect((await testKnex()('partner_services').where({ id: service.id }).first()).name).toBe(
        'Colis du mardi',
      );
    });
  });

  describe('teams and settings', () => {
    it('when an admin creates a team and gives it a manager and members, then the table shows them', async () => {
      const created = await postForm(admin, '/admin/equipes', '/admin/equipes', {
        name: 'Équipe mobile',
      });
      expect(created.status).toBe(303);
      const path = created.headers.location as string;
      const res = await postForm(admin, path, path, {
        name: 'Équipe mobile',
        managerIds: s.manager.id,
        memberIds: [s.worker.id, s.worker2.id],
      });
      expect(res.status).toBe(303);
      const list = await admin.get('/admin/equipes');
      expect(list.text).toContain(s.manager.name);
      expect(list.text).toContain(s.worker2.name);

      // Checked as the API checks it: an id that is not one is the members' 400, with what was
      // typed kept; a member listed twice is one member; a name of spaces is refused on its own.
      const team = path.split('/').pop();
      const tampered = await postForm(admin, path, path, {
        name: 'Équipe mobile renommée',
        managerIds: s.manager.id,
        memberIds: ['abc', s.worker.id],
      });
      expect(tampered.status).toBe(400);
      expect(tampered.text).toContain('Choisissez des membres actifs de la structure');
      expect(tampered.text).toContain('Équipe mobile renommée');
      expect((await testKnex()('teams').where({ id: team }).first()).name).toBe('Équipe mobile');
      const twice = await postForm(admin, path, path, {
        name: 'Équipe mobile',
        managerIds: s.manager.id,
        memberIds: [s.worker.id, s.worker.id],
      });
      expect(twice.status).toBe(303);
      expect(
        await testKnex()('team_members').where({ team_id: team, user_id: s.worker.id }),
      ).toHaveLength(1);
      const blank = await postForm(admin, '/admin/equipes', '/admin/equipes', { name: '   ' });
      expect(blank.status).toBe(400);
      expect(blank.text).toContain('Saisissez un nom d’équipe');
    });

    it('when a team is saved from a page read before another admin changed it, then 409 keeps the choices made at the saved version, and saving again applies them', async () => {
      const created = await postForm(admin, '/admin/equipes', '/admin/equipes', {
        name: 'Équipe de nuit',
      });
      const path = created.headers.location as string;
      const id = path.split('/').pop();
      const version = versionOf((await admin.get(path)).text);
      await admin.patch(`/api/teams/${id}`).send({ memberIds: [s.worker2.id] });
      const res = await postForm(admin, path, path, {
        version,
        name: 'Équipe de nuit',
        memberIds: s.worker.id,
      });
      expect(res.status).toBe(409);
      expect(res.text).toContain('L’équipe a été modifiée pendant que vous la changiez');
      expect(res.text).toContain(`<a href="#memberIds">Membres</a> : « ${s.worker2.name} »`);
      expect(res.text).not.toContain('<a href="#name">');
      expect(res.text).toMatch(new RegExp(`value="${s.worker.id}" checked`));
      expect(res.text).not.toMatch(new RegExp(`value="${s.worker2.id}" checked`));
      expect(versionOf(res.text)).toBe(String(Number(version) + 1));
      const members = async () =>
        (await testKnex()('team_members').where({ team_id: id })).map((m) => m.user_id);
      expect(await members()).toEqual([s.worker2.id]);
      const again = await postForm(admin, path, path, {
        version: String(Number(version) + 1),
        name: 'Équipe de nuit',
        memberIds: s.worker.id,
      });
      expect(again.status).toBe(303);
      expect(await members()).toEqual([s.worker.id]);
    });

    it('when a team form refused with a 400 is corrected and saved after another admin changed it, then 409, not their change undone', async () => {
      const created = await postForm(admin, '/admin/equipes', '/admin/equipes', {
        name: 'Équipe du samedi',
      });
      const path = created.headers.location as string;
      const id = path.split('/').pop();
      const version = versionOf((await admin.get(path)).text);
      await admin
        .patch(`/api/teams/${id}`)
        .send({ memberIds: [s.worker2.id] })
        .expect(200);
      const refused = await postForm(admin, path, path, { version, name: '   ' });
      expect(refused.status).toBe(400);
      expect(versionOf(refused.text)).toBe(version);
      const corrected = await postForm(admin, path, path, {
        version: versionOf(refused.text),
        name: 'Équipe du samedi',
      });
      expect(corrected.status).toBe(409);
      expect(
        (await testKnex()('team_members').where({ team_id: id })).map((m) => m.user_id),
      ).toEqual([s.worker2.id]);
    });

    it('when a manager narrows the backlog to a team, then the page offers the teams and keeps the choice', async () => {
      const teams = (await admin.get('/api/teams')).body.items as { id: string; name: string }[];
      const mobile = teams.find((t) => t.name === 'Équipe mobile')!;
      const manager = await loginAs(ctx.app, s.manager.email);
      const all = await manager.get('/?teamId=');
      expect(all.status).toBe(200);
      expect(all.text).toContain('Toute la structure');
      const one = await manager.get(`/?groupBy=team&teamId=${mobile.id}`);
      expect(one.status).toBe(200);
      expect(one.text).toMatch(new RegExp(`value="${mobile.id}" checked`));
    });

    it('when an admin saves the settings, then they change; a bad value gets 400 on its field; a stale form is refused', async () => {
      const page = await admin.get('/admin/parametres');
      expect(page.status).toBe(200);
      const version = versionOf(page.text);
      const fields = {
        followUpReminderDays: '4',
        followUpEscalationDays: '12',
        referralResponseDays: '5',
        referralExpiryDays: '10',
        loopClosingDays: '10',
        noContactDays: '30',
        noContactCloseDays: '90',
        reportTriageDays: '5',
        smallCountThreshold: '5',
        retentionMonths: '24',
        digestTime: '09:15',
        workingStart: '09:00',
        workingEnd: '17:30',
      };
      const bad = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...fields,
        version,
        workingEnd: '07:00',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('href="#workingEnd"');
      // The digest before the working day starts: refused on its field, in French.
      const early = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...fields,
        version,
        digestTime: '08:45',
      });
      expect(early.status).toBe(400);
      expect(early.text).toContain('href="#digestTime"');
      expect(early.text).toContain(
        'Saisissez une heure au format HH:MM, entre le début et la fin de la journée de travail (la fin exclue)',
      );
      expect(inputValue(early.text, 'digestTime')).toBe('08:45');
      const ok = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...fields,
        version,
      });
      expect(ok.status).toBe(303);
      expect(
        await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id),
      ).toMatchObject({
        followUpReminderDays: 4,
        digestTime: '09:15',
        workingHours: { start: '09:00', end: '17:30' },
      });
      // A form read before that save: 409, the typed values kept at the saved version, and the
      // fields saved meanwhile with another value named.
      // A delay typed "05" is the saved 5: not listed as changed.
      const stale = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...fields,
        followUpReminderDays: '6',
        referralResponseDays: '05',
        version,
      });
      expect(stale.status).toBe(409);
      expect(stale.text).toContain('Les paramètres ont été modifiés pendant que vous les changiez');
      expect(inputValue(stale.text, 'followUpReminderDays')).toBe('6');
      expect(stale.text).toMatch(/<li><a href="#followUpReminderDays">[^<]+<\/a> : « 4 »<\/li>/);
      expect(stale.text).not.toContain('<li><a href="#digestTime">');
      expect(stale.text).not.toContain('<li><a href="#referralResponseDays">');
      expect(versionOf(stale.text)).toBe(String(Number(version) + 1));
      expect(
        (await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id))
          .followUpReminderDays,
      ).toBe(4);
    });

    it('when a settings form refused with a 400 is corrected and saved after another admin changed them, then 409, not their change undone', async () => {
      const saved = await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id);
      const version = versionOf((await admin.get('/admin/parametres')).text);
      // Another admin changes a delay meanwhile.
      const other = await loginAs(ctx.app, (await createUser(s.structure.id, 'admin')).email);
      await other
        .patch('/api/settings')
        .send({ version: Number(version), noContactDays: saved.noContactDays + 1 })
        .expect(200);
      const refused = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...settingsForm(saved, { workingStart: '25:00' }),
        version,
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('href="#workingStart"');
      expect(versionOf(refused.text)).toBe(version);
      const corrected = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...settingsForm(saved, {}),
        version: versionOf(refused.text),
      });
      expect(corrected.status).toBe(409);
      expect(corrected.text).toContain(
        'Les paramètres ont été modifiés pendant que vous les changiez',
      );
      expect(
        (await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id))
          .noContactDays,
      ).toBe(saved.noContactDays + 1);
    });

    it('when an admin ticks the Alsace-Moselle calendar, then it is saved and the box shows ticked', async () => {
      const page = await admin.get('/admin/parametres');
      expect(page.text).toContain(
        'Calendrier d’Alsace-Moselle : Vendredi saint et 26 décembre sont fériés',
      );
      expect(page.text).not.toMatch(/name="alsaceMoselle" value="1" checked/);
      const saved = await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id);
      const ok = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...settingsForm(saved, { alsaceMoselle: '1' }),
        version: versionOf(page.text),
      });
      expect(ok.status).toBe(303);
      expect(
        (await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id))
          .alsaceMoselle,
      ).toBe(true);
      expect((await admin.get('/admin/parametres')).text).toMatch(
        /name="alsaceMoselle" value="1" checked/,
      );
    });

    it('when an admin shortens the retention while files would be anonymised, then 422 says how many and offers a box to confirm; ticked, it is saved', async () => {
      // Idle since April: past six months, within the 24 in force.
      const [idle] = await testKnex()('persons')
        .insert({
          structure_id: s.structure.id,
          alias: 'Femme ~40 ans, marché',
          source: 'outreach',
          last_activity_at: new Date('2026-04-01T10:00:00Z'),
        })
        .returning('id');
      const saved = await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id);
      expect(saved.retentionMonths).toBe(24);
      const fields = settingsForm(saved, { retentionMonths: '6' });
      const page = await admin.get('/admin/parametres');
      expect(page.text).not.toContain('name="confirmRetention"');

      const refused = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...fields,
        version: versionOf(page.text),
      });
      expect(refused.status).toBe(422);
      expect(refused.text).toContain('href="#retentionMonths"');
      expect(refused.text).toContain(
        'Avec 6 mois au lieu de 24, 1 dossier sans activité depuis plus de 6 mois sera anonymisé la nuit prochaine, sans retour possible : cochez « Je confirme l’anonymisation de ces dossiers, sans retour possible » pour l’enregistrer quand même, ou gardez une durée plus longue',
      );
      expect(refused.text).toMatch(/name="confirmRetention" value="1"\/?>/);
      expect(inputValue(refused.text, 'retentionMonths')).toBe('6');
      expect(
        (await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id))
          .retentionMonths,
      ).toBe(24);

      const confirmed = await postForm(admin, '/admin/parametres', '/admin/parametres', {
        ...fields,
        confirmRetention: '1',
        version: versionOf(refused.text),
      });
      expect(confirmed.status).toBe(303);
      expect(
        (await ctx.deps.services.settings.forStructure(ctx.deps.knex, s.structure.id))
          .retentionMonths,
      ).toBe(6);
      // Anonymised by the next nightly run, not by the change itself.
      expect((await testKnex()('persons').where({ id: idle.id }).first()).anonymised_at).toBeNull();
    });
  });

  describe('districts', () => {
    const row = (name: string) =>
      testKnex()('districts').where({ structure_id: s.structure.id, name }).first();
    /** The part of the page about one district, from its list item on. */
    const itemOf = (html: string, id: string) => html.slice(html.indexOf(`id="quartier-${id}"`));

    it('when an admin adds a district through the page, then it is listed, offered at intake, and its QPV flag shows', async () => {
      const empty = await admin.get('/admin/quartiers');
      expect(empty.status).toBe(200);
      expect(empty.text).toContain('<h1>Quartiers</h1>');
      expect(empty.text).toContain('<label class="fr-label" for="nouveau-name">');
      const res = await postForm(admin, '/admin/quartiers', '/admin/quartiers', {
        name: 'Belle-Beille',
        code: '490070101',
        qpv: '1',
      });
      expect(res.status).toBe(303);
      const saved = await row('Belle-Beille');
      expect(saved).toMatchObject({ code: '490070101', qpv: true, version: 1 });
      expect(res.headers.location).toBe(`/admin/quartiers#quartier-${saved.id}`);
      const page = await admin.get(res.headers.location);
      expect(page.text).toContain('Quartier « Belle-Beille » ajouté.');
      expect(itemOf(page.text, saved.id)).toContain('Code : 490070101');
      expect(inputValue(itemOf(page.text, saved.id), `quartier-${saved.id}-name`)).toBe(
        'Belle-Beille',
      );
      const intake = await (await loginAs(ctx.app, s.worker.email)).get('/personnes/nouvelle');
      expect(intake.text).toContain(`<option value="${saved.id}">Belle-Beille (QPV)</option>`);
    });

    it('when the form is wrong or the name taken, then the error is linked to its field and what was typed stays', async () => {
      await postForm(admin, '/admin/quartiers', '/admin/quartiers', { name: 'Monplaisir' });
      const bad = await postForm(admin, '/admin/quartiers', '/admin/quartiers', {
        name: '  ',
        code: 'pas un code',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('href="#nouveau-name"');
      expect(bad.text).toContain('href="#nouveau-code"');
      expect(bad.text).toMatch(/id="nouveau-code"[^>]*aria-describedby="nouveau-code-error"/);
      expect(inputValue(bad.text, 'nouveau-code')).toBe('pas un code');
      const taken = await postForm(admin, '/admin/quartiers', '/admin/quartiers', {
        name: 'Monplaisir',
        qpv: '1',
      });
      expect(taken.status).toBe(409);
      expect(taken.text).toContain('Un quartier de votre structure porte déjà ce nom.');
      expect(taken.text).toContain('href="#nouveau-name"');
      expect(await testKnex()('districts').where({ name: 'Monplaisir' })).toHaveLength(1);
    });

    it('when an admin renames, flags and archives a district, then a person in it keeps it and the intake no longer offers it', async () => {
      await postForm(admin, '/admin/quartiers', '/admin/quartiers', { name: 'Justices' });
      const { id } = await row('Justices');
      const worker = await loginAs(ctx.app, s.worker.email);
      const person = (
        await worker
          .post('/api/persons')
          .send({ alias: 'Aux Justices', source: 'outreach', districtId: id })
      ).body;

      const renamed = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${id}`, {
        name: 'Les Justices',
        code: '',
        qpv: '1',
        version: '1',
      });
      expect(renamed.status).toBe(303);
      expect(await testKnex()('districts').where({ id }).first()).toMatchObject({
        name: 'Les Justices',
        code: null,
        qpv: true,
        version: 2,
      });
      // A form read before the rename: 409, the typing kept at the saved version.
      const stale = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${id}`, {
        name: 'Justices Nord',
        version: '1',
      });
      expect(stale.status).toBe(409);
      const item = itemOf(stale.text, id);
      expect(item).toContain('Ce quartier a été modifié pendant que vous le changiez');
      expect(inputValue(item, `quartier-${id}-name`)).toBe('Justices Nord');
      expect(item).toMatch(/name="version" value="2"/);

      const archived = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${id}/archive`, {
        archived: 'true',
        version: '2',
      });
      expect(archived.status).toBe(303);
      expect((await admin.get('/admin/quartiers')).text).toContain('Archivé le');
      expect((await worker.get('/personnes/nouvelle')).text).not.toContain(`value="${id}"`);
      const edit = await worker.get(`/personnes/${person.id}/modifier`);
      expect(edit.text).toContain(
        `<option value="${id}" selected>Les Justices (QPV) (archivé)</option>`,
      );
      // The list's filter still finds the people of an archived district.
      expect((await worker.get('/personnes')).text).toContain(`<option value="${id}">`);
      // Another file cannot be moved into it: the field says why.
      const other = (
        await worker.post('/api/persons').send({ alias: 'Ailleurs', source: 'outreach' })
      ).body;
      const page = await worker.get(`/personnes/${other.id}/modifier`);
      expect(page.text).not.toContain(`value="${id}"`);
      const refused = await worker
        .post(`/personnes/${other.id}/modifier`)
        .type('form')
        .send({
          _csrf: csrfOf(page.text),
          alias: 'Ailleurs',
          source: 'outreach',
          districtId: id,
          version: String(other.version),
        });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('Ce quartier est archivé');
      expect(refused.text).toContain('href="#districtId"');

      const restored = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${id}/archive`, {
        archived: 'false',
        version: '3',
      });
      expect(restored.status).toBe(303);
      expect((await testKnex()('districts').where({ id }).first()).archived_at).toBeNull();
    });

    it('when a district form refused with a 400 is corrected and saved after another admin changed it, then 409, not their change undone', async () => {
      await postForm(admin, '/admin/quartiers', '/admin/quartiers', { name: 'Roseraie' });
      const { id } = await row('Roseraie');
      await admin.patch(`/api/districts/${id}`).send({ version: 1, qpv: true }).expect(200);
      const refused = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${id}`, {
        name: '  ',
        version: '1',
      });
      expect(refused.status).toBe(400);
      expect(itemOf(refused.text, id)).toMatch(/name="version" value="1"/);
      const corrected = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${id}`, {
        name: 'La Roseraie',
        version: /name="version" value="(\d+)"/.exec(itemOf(refused.text, id))![1],
      });
      expect(corrected.status).toBe(409);
      expect(await row('Roseraie')).toMatchObject({ qpv: true, version: 2 });
    });

    it("when an admin posts to another structure's district, then 404 and nothing changes", async () => {
      const theirs = await createDistrict((await createTeam()).structure.id, 'Ailleurs', false);
      const res = await postForm(admin, '/admin/quartiers', `/admin/quartiers/${theirs.id}`, {
        name: 'Pris',
        version: '1',
      });
      expect(res.status).toBe(404);
      const archive = await postForm(
        admin,
        '/admin/quartiers',
        `/admin/quartiers/${theirs.id}/archive`,
        { archived: 'true', version: '1' },
      );
      expect(archive.status).toBe(404);
      expect(await testKnex()('districts').where({ id: theirs.id }).first()).toMatchObject({
        name: 'Ailleurs',
        archived_at: null,
      });
    });
  });

  describe('password pages', () => {
    it('when the login page is shown, then it links to the forgotten-password form', async () => {
      expect((await request(ctx.app).get('/connexion')).text).toContain(
        'href="/mot-de-passe-oublie"',
      );
    });

    it('when someone asks for a link, then the page answers the same for a known and an unknown address', async () => {
      const u = await createUser(s.structure.id, 'worker');
      const answer = async (email: string) => {
        const agent = request.agent(ctx.app);
        const res = await postForm(agent, '/mot-de-passe-oublie', '/mot-de-passe-oublie', {
          email,
        });
        expect(res.status).toBe(200);
        return res.text
          .replace(/name="_csrf" value="[^"]*"/g, '')
          .replace(/value="[^"]*@[^"]*"/g, '');
      };
      expect(await answer(u.email)).toBe(await answer('inconnu@nulle.part'));
      expect(await answer(u.email)).toContain('Si un compte actif correspond à cette adresse');
    });

    it('when the address is checked, then the page takes what the API takes: a~b@ yes, a..b@ no', async () => {
      const ask = (email: string) =>
        postForm(request.agent(ctx.app), '/mot-de-passe-oublie', '/mot-de-passe-oublie', { email });
      expect((await ask('a~b@example.fr')).status).toBe(200);
      const refused = await ask('a..b@example.fr');
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('Saisissez une adresse électronique');
      expect(
        (await request(ctx.app).post('/api/password-reset').send({ email: 'a..b@example.fr' }))
          .status,
      ).toBe(400);
    });

    it('when a set-password link is opened and used, then the password is set and the link then says it was used', async () => {
      const u = await createUser(s.structure.id, 'worker');
      await ctx.deps.services.users.sendPasswordLink(
        { ...s.admin, structureId: s.structure.id, partnerId: null, role: 'admin' },
        u.id,
        { ip: null },
      );
      const link = await testKnex()('password_links').where({ user_id: u.id }).first();
      const path = `/mot-de-passe/${passwordTokenFor(ctx.config.LINK_SECRET, link.id)}`;
      const agent = request.agent(ctx.app);
      const page = await agent.get(path);
      expect(page.status).toBe(200);
      expect(page.text).toContain(u.email);
      const mismatch = await postForm(agent, path, path, {
        password: STRONG,
        confirmation: 'autre chose',
      });
      expect(mismatch.status).toBe(400);
      expect(mismatch.text).toContain('href="#confirmation"');
      const weak = await postForm(agent, path, path, {
        password: 'azertyuiop12',
        confirmation: 'azertyuiop12',
      });
      expect(weak.status).toBe(400);
      expect(weak.text).toContain('href="#password"');
      expect(weak.text).toContain('trop courant ou trop facile à deviner');
      const short = await postForm(agent, path, path, {
        password: 'lapin vert',
        confirmation: 'lapin vert',
      });
      expect(short.status).toBe(400);
      expect(short.text).toContain('de 12 à 128 caractères');
      const ok = await postForm(agent, path, path, { password: STRONG, confirmation: STRONG });
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toBe('/connexion');
      await loginAs(ctx.app, u.email, STRONG);
      const again = await request(ctx.app).get(path);
      expect(again.status).toBe(410);
      expect(again.text).toContain('déjà servi');
      expect((await request(ctx.app).get('/mot-de-passe/abc')).status).toBe(404);
    });

    it('when an address tried too many set-password tokens, then the page answers 429 with Retry-After, in French, and the link still works from elsewhere', async () => {
      const u = await createUser(s.structure.id, 'worker');
      await ctx.deps.services.users.sendPasswordLink(
        { ...s.admin, structureId: s.structure.id, partnerId: null, role: 'admin' },
        u.id,
        { ip: null },
      );
      const link = await testKnex()('password_links').where({ user_id: u.id }).first();
      const path = `/mot-de-passe/${passwordTokenFor(ctx.config.LINK_SECRET, link.id)}`;
      const ip = '198.51.100.7';
      // The API and the page count against the same address.
      for (let i = 0; i < 20; i += 1)
        await request(ctx.app)
          .post('/api/password-links/use')
          .set('X-Forwarded-For', ip)
          .send({ token: 'C'.repeat(43), password: STRONG })
          .expect(404);
      const agent = request.agent(ctx.app);
      const page = await agent.get(path).set('X-Forwarded-For', ip);
      const refused = await agent
        .post(path)
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ _csrf: csrfOf(page.text), password: STRONG, confirmation: STRONG });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.text).toContain('Trop de tentatives depuis votre connexion');
      const elsewhere = await postForm(request.agent(ctx.app), path, path, {
        password: STRONG,
        confirmation: STRONG,
      });
      expect(elsewhere.status).toBe(303);
    });
  });
});
