import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { refuseInserts, testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';
import { inYears } from '../../setup/dates';

const reached = { occurredAt: '2026-11-20T10:00:00+01:00', channel: 'street', outcome: 'reached' };

describe('contacts API', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let worker2: Agent;
  let manager: Agent;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    [worker, worker2, manager] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.worker2.email),
      loginAs(ctx.app, team.manager.email),
    ]);
  });
  afterAll(async () => ctx.close());

  it('when a contact is logged, then 201 with the whole contact and the summary encrypted at rest', async () => {
    const p = await createPerson(worker);
    const res = await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, summary: 'Parle de ses dettes de loyer' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      personId: p.id,
      authorId: team.worker.id,
      channel: 'street',
      outcome: 'reached',
      summary: 'Parle de ses dettes de loyer',
      followUpId: null,
    });
    expect(new Date(res.body.occurredAt).toISOString()).toBe('2026-11-20T09:00:00.000Z');
    const row = await testKnex()('contacts').where({ id: res.body.id }).first();
    expect(row.summary_enc.startsWith('v1.')).toBe(true);
    expect(row.summary_enc).not.toContain('loyer');
  });

  it('when a contact reaches the person, then the status moves from identified to in_contact; an unreached one does not', async () => {
    const p = await createPerson(worker);
    expect(p.status).toBe('identified');
    await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, outcome: 'not_reached' })
      .expect(201);
    expect((await worker.get(`/api/persons/${p.id}`)).body.status).toBe('identified');
    await worker.post(`/api/persons/${p.id}/contacts`).send(reached).expect(201);
    expect((await worker.get(`/api/persons/${p.id}`)).body.status).toBe('in_contact');
  });

  it('shows the private note to its author only: a colleague and the manager get no privateNote key', async () => {
    const p = await createPerson(worker);
    const created = await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, summary: 'Partagé', privateNote: 'Impression personnelle' });
    expect(created.body.privateNote).toBe('Impression personnelle');

    const mine = await worker.get(`/api/persons/${p.id}/contacts`);
    expect(mine.body.items[0].privateNote).toBe('Impression personnelle');
    for (const agent of [worker2, manager]) {
      const list = await agent.get(`/api/persons/${p.id}/contacts`);
      expect(list.status).toBe(200);
      expect(list.body.items[0].summary).toBe('Partagé');
      expect(list.body.items[0]).not.toHaveProperty('privateNote');
      const timeline = await agent.get(`/api/persons/${p.id}/timeline`);
      expect(timeline.body.items[0].data).not.toHaveProperty('privateNote');
      expect(JSON.stringify(timeline.body)).not.toContain('Impression personnelle');
    }
    const row = await testKnex()('contacts').where({ id: created.body.id }).first();
    expect(row.private_note_enc).not.toContain('Impression');
  });

  it('when nextFollowUpAt is given, then a follow-up and its deadline are created in the same transaction', async () => {
    const p = await createPerson(worker);
    const res = await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, nextFollowUpAt: inYears(4, '01-07T09:00:00+01:00') });
    expect(res.status).toBe(201);
    const followUp = await testKnex()('follow_ups').where({ id: res.body.followUpId }).first();
    expect(followUp).toMatchObject({
      person_id: p.id,
      contact_id: res.body.id,
      assignee_id: team.worker.id,
      status: 'open',
    });
    expect(followUp.due_at.toISOString()).toBe(inYears(4, '01-07T08:00:00.000Z'));
    const deadlines = await testKnex()('deadlines').where({
      subject_id: followUp.id,
      kind: 'follow_up.due',
    });
    expect(deadlines).toHaveLength(1);
    expect(deadlines[0].status).toBe('pending');
  });

  it.each([
    ['the follow-up part fails (its deadline is refused)', 'deadlines', {}],
    [
      'the last write fails (the audit event, after the deadline)',
      'audit_events',
      { action: 'contact.create' },
    ],
  ])(
    'when %s after the contact was inserted, then nothing stays: no contact, no follow-up, no deadline, no job, no audit',
    async (_what, table, match) => {
      const p = await createPerson(worker);
      const structure = { structure_id: team.structure.id };
      const deadlinesBefore = await testKnex()('deadlines').where(structure);
      const jobsBefore = await ctx.deps.queue.getJobCounts('delayed', 'waiting', 'active');
      const restore = await refuseInserts(table, { ...structure, ...match });
      let res;
      try {
        res = await worker.post(`/api/persons/${p.id}/contacts`).send({
          ...reached,
          summary: 'Doit disparaître',
          nextFollowUpAt: inYears(4, '01-07T09:00:00Z'),
        });
      } finally {
        await restore();
      }
      expect(res.status).toBe(500);
      expect(await testKnex()('contacts').where({ person_id: p.id })).toHaveLength(0);
      expect(await testKnex()('follow_ups').where({ person_id: p.id })).toHaveLength(0);
      expect(await testKnex()('deadlines').where(structure)).toEqual(deadlinesBefore);
      expect(await auditRows({ subject_id: p.id, action: 'contact.create' })).toHaveLength(0);
      expect(await ctx.deps.queue.getJobCounts('delayed', 'waiting', 'active')).toEqual(jobsBefore);

      // The same request without the injected failure goes through.
      const ok = await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...reached, nextFollowUpAt: inYears(4, '01-07T09:00:00Z') });
      expect(ok.status).toBe(201);
    },
  );

  it('when the contact is refused by validation, then nothing is written (no contact, no follow-up)', async () => {
    const p = await createPerson(worker);
    const res = await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, nextFollowUpAt: 'lundi prochain' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('nextFollowUpAt');
    expect(await testKnex()('contacts').where({ person_id: p.id })).toHaveLength(0);
    expect(await testKnex()('follow_ups').where({ person_id: p.id })).toHaveLength(0);
  });

  it('when a follow-up title comes without nextFollowUpAt, then 400 naming nextFollowUpAt and nothing is written', async () => {
    const p = await createPerson(worker);
    const res = await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, nextFollowUpTitle: 'Rappeler jeudi' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { field: 'nextFollowUpAt', message: 'is required when nextFollowUpTitle is given' },
    ]);
    expect(await testKnex()('contacts').where({ person_id: p.id })).toHaveLength(0);
    expect(await testKnex()('follow_ups').where({ person_id: p.id })).toHaveLength(0);
  });

  it.each([
    ['occurredAt', undefined],
    ['occurredAt', '2026-11-20 10:00'],
    ['channel', 'pigeon'],
    ['outcome', 'maybe'],
    ['summary', 12],
    ['mood', 'good'],
  ])('when %s is %j, then 400 naming it', async (field, value) => {
    const p = await createPerson(worker);
    const res = await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({ ...reached, [field]: value });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('lists contacts newest first, paged', async () => {
    const p = await createPerson(worker);
    for (const day of ['01', '03', '02']) {
      await worker
        .post(`/api/persons/${p.id}/contacts`)
        .send({ ...reached, occurredAt: `2026-11-${day}T10:00:00Z` })
        .expect(201);
    }
    const res = await worker2.get(`/api/persons/${p.id}/contacts`).query({ pageSize: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect(res.body.items.map((c: { occurredAt: string }) => c.occurredAt.slice(0, 10))).toEqual([
      '2026-11-03',
      '2026-11-02',
    ]);
  });

  it('when the person does not exist or the id is not a UUID, then 404 or 400 naming id', async () => {
    const missing = '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f';
    expect((await worker.get(`/api/persons/${missing}/contacts`)).status).toBe(404);
    expect((await worker.post(`/api/persons/${missing}/contacts`).send(reached)).status).toBe(404);
    const bad = await worker.post('/api/persons/nope/contacts').send(reached);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('id');
  });

  it('when a contact is logged, then the last activity of the file moves on and its version stays (a contact is no edit of the file)', async () => {
    const p = await createPerson(worker);
    const before = await testKnex()('persons').where({ id: p.id }).first();
    await worker.post(`/api/persons/${p.id}/contacts`).send(reached).expect(201);
    const after = await testKnex()('persons').where({ id: p.id }).first();
    expect(after.last_activity_at.getTime()).toBeGreaterThan(before.last_activity_at.getTime());
    expect(after.version).toBe(before.version);
    expect(after.last_contact_at).toEqual(new Date('2026-11-20T09:00:00.000Z'));
  });

  it('when the person is of another structure, then 404: no contact, no event, and its last activity stays', async () => {
    const p = await createPerson(worker);
    const stranger = await loginAs(ctx.app, (await createTeam()).worker.email);
    const before = await testKnex()('persons').where({ id: p.id }).first();
    expect((await stranger.post(`/api/persons/${p.id}/contacts`).send(reached)).status).toBe(404);
    expect(await testKnex()('contacts').where({ person_id: p.id })).toHaveLength(0);
    expect(await auditRows({ subject_id: p.id, action: 'contact.create' })).toHaveLength(0);
    const after = await testKnex()('persons').where({ id: p.id }).first();
    expect(after.last_activity_at).toEqual(before.last_activity_at);
  });

  it('when a contact does not move the last one, then its transaction is the lock that moves the last activity, the contact and the audit event; a newer one also plans the no-contact rules there', async () => {
    const p = await createPerson(worker);
    await worker.post(`/api/persons/${p.id}/contacts`).send(reached).expect(201);
    /** The statements between BEGIN and COMMIT of one contact write, as knex sends them. */
    const statementsOf = async (body: Record<string, unknown>) => {
      const sent: string[] = [];
      const onQuery = (q: { sql: string }) => sent.push(q.sql);
      ctx.deps.knex.on('query', onQuery);
      try {
        await worker.post(`/api/persons/${p.id}/contacts`).send(body).expect(201);
      } finally {
        ctx.deps.knex.removeListener('query', onQuery);
      }
      const begin = sent.findIndex((q) => /^begin/i.test(q));
      const commit = sent.findIndex((q) => /^commit/i.test(q));
      expect(begin).toBeGreaterThanOrEqual(0);
      expect(commit).toBeGreaterThan(begin);
      return sent.slice(begin + 1, commit).map((q) => /^\w+ (?:into |from )?"?\w+"?/i.exec(q)![0]);
    };

    // An older contact: the moments of the no-contact rules stay, nothing about them is read.
    expect(await statementsOf({ ...reached, occurredAt: '2026-11-19T10:00:00+01:00' })).toEqual([
      'update "persons"',
      'insert into "contacts"',
      'insert into "audit_events"',
    ]);
    const newer = await statementsOf({ ...reached, occurredAt: '2026-11-21T10:00:00+01:00' });
    expect(newer[0]).toBe('update "persons"');
    expect(newer).toContain('insert into "deadlines"');
    expect(newer[newer.length - 1]).toBe('insert into "audit_events"');
  });

  it('when nobody is signed in, then 401', async () => {
    const p = await createPerson(worker);
    expect((await request(ctx.app).get(`/api/persons/${p.id}/contacts`)).status).toBe(401);
    expect(
      (await request(ctx.app).post(`/api/persons/${p.id}/contacts`).send(reached)).status,
    ).toBe(401);
  });
});
