import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { createFoodBank, giveConsent, refer } from '../referrals/helpers';
import { auditRows, createPerson, type Agent } from './helpers';
import { inYears } from '../../setup/dates';

describe('access control by role and the audit trail', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let personId: string;
  let followUpId: string;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    personId = (await createPerson(worker)).id;
    followUpId = (
      await worker
        .post(`/api/persons/${personId}/follow-ups`)
        .send({ dueAt: inYears(4, '01-07T09:00:00Z'), title: 'Rappeler' })
        .expect(201)
    ).body.id;
  });
  afterAll(async () => ctx.close());

  const personCalls = (agent: ReturnType<typeof request.agent> | ReturnType<typeof request>) => [
    () => agent.get('/api/persons'),
    () => agent.post('/api/persons').send({ alias: 'A', source: 'outreach' }),
    () => agent.get(`/api/persons/${personId}`),
    () => agent.patch(`/api/persons/${personId}`).send({ version: 1, alias: 'B' }),
    () => agent.get(`/api/persons/${personId}/timeline`),
    () => agent.get(`/api/persons/${personId}/contacts`),
    () =>
      agent
        .post(`/api/persons/${personId}/contacts`)
        .send({ occurredAt: '2026-11-20T10:00:00Z', channel: 'phone', outcome: 'reached' }),
    () =>
      agent
        .post(`/api/persons/${personId}/follow-ups`)
        .send({ dueAt: inYears(4, '01-07T09:00:00Z'), title: 'X' }),
    () => agent.get('/api/follow-ups'),
    () => agent.patch(`/api/follow-ups/${followUpId}`).send({ status: 'done' }),
  ];

  it.each(['partner', 'observer', 'admin'] as const)(
    'when a user with role %s calls any person endpoint, then 403 and no person data',
    async (role) => {
      const partner = role === 'partner' ? await createPartner() : undefined;
      const user = await createUser(team.structure.id, role, { partnerId: partner?.id });
      const agent = await loginAs(ctx.app, user.email);
      for (const call of personCalls(agent)) {
        const res = await call();
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
        expect(JSON.stringify(res.body)).not.toContain('Personne test');
      }
      // They are still signed in: /api/me and their notifications work.
      expect((await agent.get('/api/me')).body.user.role).toBe(role);
      expect((await agent.get('/api/notifications')).status).toBe(200);
      const person = await testKnex()('persons').where({ id: personId }).first();
      expect(person.version).toBe(1);
    },
  );

  it('when nobody is signed in, then every person, follow-up and notification endpoint is 401', async () => {
    const anon = request(ctx.app);
    for (const call of personCalls(anon)) expect((await call()).status).toBe(401);
    expect((await anon.get('/api/notifications')).status).toBe(401);
    expect(
      (await anon.post('/api/notifications/5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f/read')).status,
    ).toBe(401);
  });

  describe('audit trail', () => {
    it('records an event with actor, action and subject for every person create, read, update, search and timeline', async () => {
      const p = await createPerson(worker);
      await worker.get(`/api/persons/${p.id}`).expect(200);
      await worker.patch(`/api/persons/${p.id}`).send({ version: 1, firstName: 'Ana' }).expect(200);
      await worker.get(`/api/persons/${p.id}/timeline`).expect(200);
      await worker.get('/api/persons').query({ q: 'Personne' }).expect(200);

      const about = await auditRows({ subject_type: 'person', subject_id: p.id });
      expect(about.map((r) => r.action)).toEqual([
        'person.create',
        'person.read',
        'person.update',
        'person.timeline',
      ]);
      for (const row of about) {
        expect(row).toMatchObject({
          actor_id: team.worker.id,
          actor_role: 'worker',
          structure_id: team.structure.id,
        });
      }
      const searches = await auditRows({ action: 'person.search', actor_id: team.worker.id });
      expect(searches.length).toBeGreaterThanOrEqual(1);
      expect(searches.at(-1).details.ids).toContain(p.id);
      expect(JSON.stringify(searches.at(-1).details)).not.toContain('Personne');
    });

    it('records contact and follow-up writes and contact lists', async () => {
      const p = await createPerson(worker);
      const contact = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({
          occurredAt: '2026-11-20T10:00:00Z',
          channel: 'phone',
          outcome: 'reached',
          nextFollowUpAt: inYears(4, '01-07T09:00:00Z'),
        })
        .expect(201);
      await worker.get(`/api/persons/${p.id}/contacts`).expect(200);
      const f = await worker
        .post(`/api/persons/${p.id}/follow-ups`)
        .send({ dueAt: inYears(4, '01-08T09:00:00Z'), title: 'Visite' })
        .expect(201);
      await worker
        .patch(`/api/follow-ups/${f.body.id}`)
        .send({ dueAt: inYears(4, '01-09T09:00:00Z') })
        .expect(200);
      await worker.patch(`/api/follow-ups/${f.body.id}`).send({ status: 'done' }).expect(200);

      const rows = await auditRows({ subject_type: 'person', subject_id: p.id });
      expect(rows.map((r) => r.action)).toEqual([
        'person.create',
        'contact.create',
        'contact.list',
        'follow_up.create',
        'follow_up.update',
        'follow_up.done',
      ]);
      expect(rows[1].details).toMatchObject({
        contactId: contact.body.id,
        followUpId: contact.body.followUpId,
      });
      expect(rows[3].details).toMatchObject({ followUpId: f.body.id });
      expect(rows.every((r) => r.actor_id === team.worker.id)).toBe(true);
    });

    it('records a follow-up list with the persons it showed, without their names', async () => {
      const p = await createPerson(worker);
      await worker
        .post(`/api/persons/${p.id}/follow-ups`)
        .send({ dueAt: inYears(4, '01-08T09:00:00Z'), title: 'Visite' })
        .expect(201);
      await worker.get('/api/follow-ups?assignee=me').expect(200);
      const lists = await auditRows({ action: 'follow_up.list', actor_id: team.worker.id });
      expect(lists.at(-1).details.ids).toContain(p.id);
      expect(JSON.stringify(lists.at(-1).details)).not.toContain('Personne');
    });

    it('when a worker searches, lists follow-ups and referrals, then each list read is in the audit and the export of every person it showed, and of no other', async () => {
      const shown = await createPerson(worker, { firstName: 'Zéphyrin', lastName: 'Quaglio' });
      const other = await createPerson(worker, { firstName: 'Bérénice', lastName: 'Ottavi' });
      const search = await worker.get('/api/persons').query({ q: 'Quaglio' }).expect(200);
      expect(search.body.items.map((p: { id: string }) => p.id)).toEqual([shown.id]);
      await worker
        .post(`/api/persons/${shown.id}/follow-ups`)
        .send({ dueAt: inYears(4, '01-08T09:00:00Z'), title: 'Visite' })
        .expect(201);
      await worker.get('/api/follow-ups').query({ personId: shown.id }).expect(200);
      const food = await createFoodBank();
      await giveConsent(worker, shown.id, food.partner.id);
      expect((await refer(worker, shown.id, food.partner.id)).status).toBe(201);
      await worker.get('/api/referrals').query({ personId: shown.id }).expect(200);

      const manager = await loginAs(ctx.app, team.manager.email);
      const lists = (events: { action: string; actor: { id: string } | null }[]) =>
        events
          .filter((e) => e.actor?.id === team.worker.id && /\.(search|list)$/.test(e.action))
          .map((e) => e.action)
          .sort();
      const journal = async (id: string) =>
        (await manager.get('/api/audit').query({ personId: id, pageSize: 100 }).expect(200)).body
          .items;
      const accessLog = async (id: string) =>
        (await manager.get(`/api/persons/${id}/export`).expect(200)).body.accessLog;
      const read = ['follow_up.list', 'person.search', 'referral.list'];
      expect(lists(await journal(shown.id))).toEqual(read);
      expect(lists(await accessLog(shown.id))).toEqual(read);
      expect(lists(await journal(other.id))).toEqual([]);
      expect(lists(await accessLog(other.id))).toEqual([]);
    });

    it('when a list read showed the person beside others, then their export says it with its count, never the other files it listed', async () => {
      const one = await createPerson(worker, { firstName: 'Anatole', lastName: 'Vercingé' });
      const two = await createPerson(worker, { firstName: 'Apolline', lastName: 'Vercingé' });
      const search = await worker.get('/api/persons').query({ q: 'Vercingé' }).expect(200);
      expect(search.body.items).toHaveLength(2);
      const manager = await loginAs(ctx.app, team.manager.email);
      const exported = (await manager.get(`/api/persons/${one.id}/export`).expect(200)).body;
      const searches = exported.accessLog.filter(
        (e: { action: string }) => e.action === 'person.search',
      );
      expect(searches).toEqual([expect.objectContaining({ details: { results: 2 } })]);
      expect(JSON.stringify(exported)).not.toContain(two.id);
      // The manager's journal keeps what the list showed: staff of the structure may read both.
      const journal = await manager.get('/api/audit').query({ personId: one.id }).expect(200);
      expect(
        journal.body.items.find((e: { action: string }) => e.action === 'person.search').details
          .ids,
      ).toEqual(expect.arrayContaining([one.id, two.id]));
    });

    it('when an admin reads the trail, then their own changes of the rights catalogue come whole, while a person’s rights come without subject or details', async () => {
      const p = await createPerson(worker);
      await worker.put(`/api/persons/${p.id}/rights/apl`).send({ status: 'claim_in_progress' });
      const admin = await loginAs(ctx.app, team.admin.email);
      const created = await admin
        .post('/api/rights')
        .send({ code: 'aide_velo', label: 'Aide vélo' });
      expect(created.status).toBe(201);
      await admin
        .patch('/api/rights/aide_velo')
        .send({ label: 'Aide au vélo', version: created.body.version })
        .expect(200);
      const trail = await admin.get('/api/audit').query({ pageSize: 100 }).expect(200);
      const of = (action: string) =>
        trail.body.items.filter((e: { action: string }) => e.action === action);
      expect(of('right.create')).toEqual([
        expect.objectContaining({
          subjectType: 'right',
          subjectId: created.body.id,
          details: { code: 'aide_velo' },
        }),
      ]);
      expect(of('right.update')).toEqual([
        expect.objectContaining({
          subjectId: created.body.id,
          details: { code: 'aide_velo', fields: ['label'] },
        }),
      ]);
      const personRights = of('person_right.update');
      expect(personRights.length).toBeGreaterThan(0);
      for (const e of personRights) expect(e).toMatchObject({ subjectId: null, details: null });
    });

    it('records a failed login against the account, without the password', async () => {
      await request(ctx.app)
        .post('/api/session')
        .send({ email: team.observer.email, password: 'une erreur de frappe' })
        .expect(401);
      const rows = await auditRows({ action: 'login_failed', subject_id: team.observer.id });
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows[0])).not.toContain('frappe');
    });

    it('refuses a raw UPDATE, DELETE or TRUNCATE of audit_events: the table is append-only', async () => {
      const [row] = await auditRows({ subject_type: 'person', subject_id: personId });
      await expect(
        testKnex()('audit_events').where({ id: row.id }).update({ action: 'person.nothing' }),
      ).rejects.toThrow(/append-only/);
      await expect(testKnex()('audit_events').where({ id: row.id }).del()).rejects.toThrow(
        /append-only/,
      );
      await expect(testKnex().raw('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
      // TRUNCATE fires no row trigger: a statement trigger refuses it, also through a cascade.
      await expect(testKnex().raw('TRUNCATE audit_events')).rejects.toThrow(
        /append-only: TRUNCATE refused/,
      );
      await expect(testKnex().raw('TRUNCATE users CASCADE')).rejects.toThrow(
        /append-only: TRUNCATE refused/,
      );
      expect((await auditRows({})).length).toBeGreaterThan(0);
      const still = await testKnex()('audit_events').where({ id: row.id }).first();
      expect(still.action).toBe(row.action);
    });

    it('refuses the retention purge flag on recent events', async () => {
      await expect(
        testKnex().transaction(async (trx) => {
          await trx.raw("SELECT set_config('aller_vers.audit_purge', 'on', true)");
          await trx('audit_events').del();
        }),
      ).rejects.toThrow(/append-only/);
    });
  });
});
