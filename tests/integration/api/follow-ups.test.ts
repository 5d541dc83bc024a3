import request from 'supertest';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { refuseInserts, testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';

const NOW = '2026-11-25T10:00:00.000Z';

describe('follow-ups API (clock fixed at 2026-11-25 10:00 UTC)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let worker2: Agent;
  let manager: Agent;
  let personId: string;
  let disabledWorker: Awaited<ReturnType<typeof createUser>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    [worker, worker2, manager] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.worker2.email),
      loginAs(ctx.app, team.manager.email),
    ]);
    personId = (await createPerson(worker)).id;
    disabledWorker = await createUser(team.structure.id, 'worker');
    await testKnex()('users').where({ id: disabledWorker.id }).update({ disabled_at: NOW });
  });
  afterAll(async () => ctx.close());

  const plan = (agent: Agent, body: Record<string, unknown>, pid = personId) =>
    agent.post(`/api/persons/${pid}/follow-ups`).send({ title: 'Rappeler', ...body });

  describe('POST /api/persons/:id/follow-ups', () => {
    it('when planned without assignee, then 201 assigned to the caller, open, with a pending deadline', async () => {
      const res = await plan(worker, { dueAt: '2026-12-01T09:00:00+01:00' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: expect.any(String),
        personId,
        assigneeId: team.worker.id,
        createdBy: team.worker.id,
        title: 'Rappeler',
        status: 'open',
        completedAt: null,
        overdue: false,
      });
      const deadlines = await testKnex()('deadlines').where({ subject_id: res.body.id });
      // Its due moment, with the overdue reminder and escalation planned beside it.
      expect(deadlines.map((d) => [d.kind, d.status]).sort()).toEqual([
        ['follow_up.due', 'pending'],
        ['follow_up.escalate', 'pending'],
        ['follow_up.overdue_reminder', 'pending'],
      ]);
    });

    it('when assigned to a colleague, then 201 with that assignee', async () => {
      const res = await plan(worker, {
        dueAt: '2026-12-01T09:00:00Z',
        assigneeId: team.worker2.id,
      });
      expect(res.status).toBe(201);
      expect(res.body.assigneeId).toBe(team.worker2.id);
    });

    it('when planning fails after the outbox write, then nothing stays: no follow-up, no deadline, no job', async () => {
      const structure = { structure_id: team.structure.id };
      const deadlinesBefore = await testKnex()('deadlines').where(structure);
      const jobsBefore = await ctx.deps.queue.getJobCounts('delayed', 'waiting', 'active');
      // The audit event is written after the follow-up, its deadline and the person's activity.
      const restore = await refuseInserts('audit_events', {
        ...structure,
        action: 'follow_up.create',
      });
      let res;
      try {
        res = await plan(worker, { dueAt: '2026-12-01T09:00:00Z', title: 'Jamais écrit' });
      } finally {
        await restore();
      }
      expect(res.status).toBe(500);
      expect(await testKnex()('follow_ups').where({ title: 'Jamais écrit' })).toHaveLength(0);
      expect(await testKnex()('deadlines').where(structure)).toEqual(deadlinesBefore);
      expect(await ctx.deps.queue.getJobCounts('delayed', 'waiting', 'active')).toEqual(jobsBefore);
      expect((await plan(worker, { dueAt: '2026-12-01T09:00:00Z' })).status).toBe(201);
    });

    it.each([
      ['another structure', () => other.worker.id],
      ['an observer', () => team.observer.id],
      ['an unknown user', () => '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f'],
      ['a disabled worker', () => disabledWorker.id],
    ])(
      'when assigned to %s, then 422 assignee_unavailable naming assigneeId, and nothing is planned',
      async (_what, id) => {
        const before = await testKnex()('follow_ups').where({ person_id: personId });
        const res = await plan(worker, { dueAt: '2026-12-01T09:00:00Z', assigneeId: id() });
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('assignee_unavailable');
        expect(res.body.error.details[0].field).toBe('assigneeId');
        expect(await testKnex()('follow_ups').where({ person_id: personId })).toHaveLength(
          before.length,
        );
      },
    );

    it.each([
      ['dueAt', '2026-12-01'],
      ['dueAt', undefined],
      ['title', '   '],
      ['assigneeId', 'me'],
      ['priority', 'high'],
    ])('when %s is %j, then 400 naming it', async (field, value) => {
      const res = await plan(worker, { dueAt: '2026-12-01T09:00:00Z', [field]: value });
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('GET /api/follow-ups', () => {
    let mine: { overdue: string; later: string; done: string };
    let listPerson: string;
    beforeAll(async () => {
      listPerson = (await createPerson(worker)).id;
      // Overdue ones are late actions recorded on purpose (allowPast).
      const make = async (agent: Agent, dueAt: string, assigneeId?: string) =>
        (await plan(agent, { dueAt, assigneeId, allowPast: true }, listPerson).expect(201)).body
          .id as string;
      mine = {
        overdue: await make(worker, '2026-11-20T09:00:00Z'),
        later: await make(worker, '2026-11-26T09:00:00Z'),
        done: await make(worker, '2026-11-19T09:00:00Z'),
      };
      await make(worker2, '2026-11-18T09:00:00Z');
      await worker.patch(`/api/follow-ups/${mine.done}`).send({ status: 'done' }).expect(200);
    });

    it("when assignee=me, then only the caller's open follow-ups, soonest first", async () => {
      const res = await worker
        .get('/api/follow-ups')
        .query({ assignee: 'me', personId: listPerson });
      expect(res.status).toBe(200);
      expect(res.body.items.map((f: { id: string }) => f.id)).toEqual([mine.overdue, mine.later]);
      expect(res.body).toMatchObject({ total: 2, page: 1, pageSize: 20 });
    });

    it('when status=done, then the done ones instead', async () => {
      const res = await worker
        .get('/api/follow-ups')
        .query({ assignee: 'me', status: 'done', personId: listPerson });
      expect(res.body.items.map((f: { id: string }) => f.id)).toEqual([mine.done]);
    });

    it('when overdue=true, then only open follow-ups past due at the injected clock', async () => {
      const res = await worker
        .get('/api/follow-ups')
        .query({ assignee: 'me', overdue: 'true', personId: listPerson });
      expect(res.body.items.map((f: { id: string }) => f.id)).toEqual([mine.overdue]);
      expect(res.body.items[0].overdue).toBe(true);

      clock.set('2026-11-27T10:00:00Z');
      try {
        const later = await worker
          .get('/api/follow-ups')
          .query({ assignee: 'me', overdue: 'true', personId: listPerson });
        expect(later.body.items.map((f: { id: string }) => f.id)).toEqual([
          mine.overdue,
          mine.later,
        ]);
      } finally {
        clock.set(NOW);
      }
    });

    it('when overdue=false, then only open follow-ups not due yet', async () => {
      const res = await worker
        .get('/api/follow-ups')
        .query({ assignee: 'me', overdue: 'false', personId: listPerson });
      expect(res.status).toBe(200);
      expect(res.body.items.map((f: { id: string }) => f.id)).toEqual([mine.later]);
      expect(res.body.items[0].overdue).toBe(false);
    });

    it.each([[{ overdue: 'true', status: 'done' }], [{ overdue: 'false', status: 'cancelled' }]])(
      'when overdue contradicts status (%j), then 400 naming overdue',
      async (query) => {
        const res = await worker.get('/api/follow-ups').query({ assignee: 'me', ...query });
        expect(res.status).toBe(400);
        expect(res.body.error.details[0].field).toBe('overdue');
      },
    );

    it("when a manager lists the structure or a colleague's, then colleagues' follow-ups are included", async () => {
      const res = await manager
        .get('/api/follow-ups')
        .query({ personId: listPerson, overdue: 'true' });
      expect(res.body.total).toBe(2);
      const all = await manager.get('/api/follow-ups').query({ overdue: 'true' });
      expect(all.status).toBe(200);
      expect(all.body.items.map((f: { assigneeId: string }) => f.assigneeId)).toEqual(
        expect.arrayContaining([team.worker.id, team.worker2.id]),
      );
      const colleague = await manager
        .get('/api/follow-ups')
        .query({ assignee: team.worker2.id, personId: listPerson });
      expect(colleague.body.items.map((f: { assigneeId: string }) => f.assigneeId)).toEqual([
        team.worker2.id,
      ]);
    });

    it("when a worker lists one person's follow-ups, then colleagues' are included; their own by id is allowed too", async () => {
      const res = await worker.get('/api/follow-ups').query({ personId: listPerson });
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(3);
      const own = await worker.get('/api/follow-ups').query({ assignee: team.worker.id });
      expect(own.status).toBe(200);
      expect(own.body.total).toBeGreaterThan(0);
      expect(
        own.body.items.every((f: { assigneeId: string }) => f.assigneeId === team.worker.id),
      ).toBe(true);
    });

    it.each([
      ['the whole structure', () => ({})],
      ['the overdue backlog', () => ({ overdue: 'true' })],
      ["a colleague's", () => ({ assignee: team.worker2.id })],
    ])('when a worker lists %s, then 403: the team backlog is for managers', async (_what, q) => {
      const res = await worker.get('/api/follow-ups').query(q());
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(JSON.stringify(res.body)).not.toContain('Personne test');
    });

    it.each([
      ['assignee', 'bob'],
      ['overdue', 'yes'],
      ['status', 'late'],
      ['order', 'due'],
    ])('when %s=%s, then 400 naming it', async (key, value) => {
      const res = await worker.get('/api/follow-ups').query({ [key]: value });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe(key);
    });
  });

  describe('canChange: what the service would accept from this caller', () => {
    it("when each follow-up is handed out, then it says whether the caller may change it: their own and a manager's yes, a colleague's and a closed one no", async () => {
      const pid = (await createPerson(worker)).id;
      const mineRes = await plan(worker, { dueAt: '2026-12-03T09:00:00Z' }, pid).expect(201);
      expect(mineRes.body.canChange).toBe(true);
      const theirs = (await plan(worker2, { dueAt: '2026-12-04T09:00:00Z' }, pid).expect(201)).body;
      const planned = (
        await plan(worker, { dueAt: '2026-12-05T09:00:00Z', assigneeId: team.worker2.id }, pid)
      ).body;

      const seen = async (agent: Agent) => {
        const res = await agent.get('/api/follow-ups').query({ personId: pid });
        return Object.fromEntries(
          res.body.items.map((f: { id: string; canChange: boolean }) => [f.id, f.canChange]),
        );
      };
      // The author of a follow-up assigned to a colleague may still change it.
      expect(await seen(worker)).toEqual({
        [mineRes.body.id]: true,
        [theirs.id]: false,
        [planned.id]: true,
      });
      expect(await seen(worker2)).toEqual({
        [mineRes.body.id]: false,
        [theirs.id]: true,
        [planned.id]: true,
      });
      expect(Object.values(await seen(manager))).toEqual([true, true, true]);

      const timeline = await worker2.get(`/api/persons/${pid}/timeline`);
      const inTimeline = Object.fromEntries(
        timeline.body.items.map((i: { id: string; data: { canChange: boolean } }) => [
          i.id,
          i.data.canChange,
        ]),
      );
      expect(inTimeline).toEqual(await seen(worker2));

      // What canChange says is what PATCH does.
      expect(
        (await worker2.patch(`/api/follow-ups/${mineRes.body.id}`).send({ status: 'done' })).status,
      ).toBe(403);
      const done = await worker
        .patch(`/api/follow-ups/${mineRes.body.id}`)
        .send({ status: 'done' });
      expect(done.status).toBe(200);
      expect(done.body.canChange).toBe(false);
      const closed = await manager.get('/api/follow-ups').query({ personId: pid, status: 'done' });
      expect(closed.body.items).toEqual([
        expect.objectContaining({ id: mineRes.body.id, canChange: false }),
      ]);
      expect(
        (await manager.patch(`/api/follow-ups/${mineRes.body.id}`).send({ status: 'cancelled' }))
          .status,
      ).toBe(409);
    });
  });

  describe('PATCH /api/follow-ups/:id', () => {
    const create = async (agent = worker, body: Record<string, unknown> = {}) =>
      (await plan(agent, { dueAt: '2026-12-02T09:00:00Z', ...body }).expect(201)).body as {
        id: string;
        version: number;
      };

    it('when completed, then status done with completedAt at the clock, the deadline cancelled, and a later PATCH is 409', async () => {
      const f = await create();
      const res = await worker.patch(`/api/follow-ups/${f.id}`).send({ status: 'done' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'done', completedAt: NOW, overdue: false });
      const deadlines = await testKnex()('deadlines').where({ subject_id: f.id });
      // The due moment, the overdue reminder and the escalation all go.
      expect(deadlines.map((d) => d.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);

      const again = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ dueAt: '2026-12-10T09:00:00Z' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('invalid_transition');
      expect(again.body.error.details.current).toMatchObject({ id: f.id, status: 'done' });
    });

    it('when rescheduled, then the due date moves and the pending deadline with it', async () => {
      const f = await create();
      const res = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ dueAt: '2026-12-09T09:00:00+01:00' });
      expect(res.status).toBe(200);
      expect(res.body.dueAt).toBe('2026-12-09T08:00:00.000Z');
      expect(res.body.version).toBe(f.version + 1);
      const pending = await testKnex()('deadlines')
        .where({ subject_id: f.id, status: 'pending' })
        .orderBy('due_at');
      // The due moment, and 3 and 10 business days later the reminder and the escalation.
      expect(pending.map((d) => [d.kind, d.due_at.toISOString()])).toEqual([
        ['follow_up.due', '2026-12-09T08:00:00.000Z'],
        ['follow_up.overdue_reminder', '2026-12-14T08:00:00.000Z'],
        ['follow_up.escalate', '2026-12-23T08:00:00.000Z'],
      ]);
    });

    it("when reassigned to a worker of the structure, then 200; to a disabled worker, another structure's user or a partner, 422 assignee_unavailable naming assigneeId, as the bulk move answers", async () => {
      const f = await create();
      const ok = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ assigneeId: team.worker2.id });
      expect(ok.status).toBe(200);
      expect(ok.body.assigneeId).toBe(team.worker2.id);

      const partnerOrg = await createPartner();
      const partnerUser = await createUser(team.structure.id, 'partner', {
        partnerId: partnerOrg.id,
      });
      const g = await create();
      for (const assigneeId of [disabledWorker.id, other.worker.id, partnerUser.id]) {
        const bad = await worker.patch(`/api/follow-ups/${g.id}`).send({ assigneeId });
        const bulk = await manager
          .post('/api/follow-ups/reassign')
          .send({ toAssigneeId: assigneeId, ids: [g.id] });
        expect([bad.status, bad.body.error.code]).toEqual([422, 'assignee_unavailable']);
        expect([bulk.status, bulk.body.error.code]).toEqual([bad.status, bad.body.error.code]);
        expect(bad.body.error.details[0].field).toBe('assigneeId');
      }
      const unchanged = await testKnex()('follow_ups').where({ id: g.id }).first();
      expect([unchanged.assignee_id, unchanged.version]).toEqual([team.worker.id, g.version]);
      // The new assignee may now change it.
      expect(
        (await worker2.patch(`/api/follow-ups/${f.id}`).send({ title: 'Visite' })).status,
      ).toBe(200);
    });

    it('when a follow-up whose assignee has left is sent back with that assignee and a new due date, then 200: the date moves, the assignee stays, no move; naming the leaver on a follow-up held by someone else stays 422', async () => {
      const leaver = await createUser(team.structure.id, 'worker');
      const f = await create(worker, { assigneeId: leaver.id });
      await testKnex()('users').where({ id: leaver.id }).update({ disabled_at: NOW });
      const res = await manager
        .patch(`/api/follow-ups/${f.id}`)
        .send({ version: f.version, dueAt: '2026-12-09T09:00:00+01:00', assigneeId: leaver.id });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        assigneeId: leaver.id,
        dueAt: '2026-12-09T08:00:00.000Z',
        version: f.version + 1,
      });
      const actions = (await auditRows({ subject_id: personId, actor_id: team.manager.id }))
        .filter((e) => e.details?.followUpId === f.id || e.details?.followUpIds?.includes(f.id))
        .map((e) => e.action);
      expect(actions).toEqual(['follow_up.update']);
      expect(
        await testKnex()('notifications').where({ kind: 'follow_up.reassigned', subject_id: f.id }),
      ).toEqual([]);

      const g = await create();
      const bad = await manager
        .patch(`/api/follow-ups/${g.id}`)
        .send({ version: g.version, dueAt: '2026-12-09T09:00:00+01:00', assigneeId: leaver.id });
      expect([bad.status, bad.body.error.code]).toEqual([422, 'assignee_unavailable']);
      expect(bad.body.error.details[0].field).toBe('assigneeId');
      const unchanged = await testKnex()('follow_ups').where({ id: g.id }).first();
      expect([unchanged.assignee_id, unchanged.version]).toEqual([team.worker.id, g.version]);
    });

    it('when reassigned to an active colleague, then the colleague is told as by the bulk move, and it is audited as a reassignment', async () => {
      const f = await create(worker, { title: 'Passer au CCAS' });
      const res = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ assigneeId: team.worker2.id, version: f.version });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ assigneeId: team.worker2.id, version: f.version + 1 });
      const told = await testKnex()('notifications').where({
        recipient_id: team.worker2.id,
        kind: 'follow_up.reassigned',
        subject_id: f.id,
      });
      expect(told).toEqual([
        expect.objectContaining({
          title: `Suivi confié par ${team.worker.name} : Passer au CCAS`,
          body: 'Pour : Personne test',
          link: `/personnes/${personId}`,
        }),
      ]);
      const events = (await auditRows({ subject_id: personId, actor_id: team.worker.id })).filter(
        (e) => e.details?.followUpId === f.id || e.details?.followUpIds?.includes(f.id),
      );
      expect(events.map((e) => [e.action, e.details])).toEqual([
        ['follow_up.create', { followUpId: f.id }],
        [
          'follow_up.reassign',
          { followUpIds: [f.id], from: [team.worker.id], to: team.worker2.id },
        ],
      ]);
      // Its due moment is planned again for the new assignee: one set pending, when it was.
      const pending = await testKnex()('deadlines').where({ subject_id: f.id, status: 'pending' });
      expect(pending.map((d) => d.due_at.toISOString())).toEqual([
        '2026-12-02T09:00:00.000Z',
        expect.any(String),
        expect.any(String),
      ]);
    });

    it('when reassigned and rescheduled in one PATCH, then both are saved at once: one version, deadlines at the new moment, the move and the change audited', async () => {
      const f = await create();
      const res = await worker
        .patch(`/api/follow-ups/${f.id}`)
        .send({ assigneeId: team.worker2.id, dueAt: '2026-12-09T09:00:00+01:00' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        assigneeId: team.worker2.id,
        dueAt: '2026-12-09T08:00:00.000Z',
        version: f.version + 1,
      });
      const due = await testKnex()('deadlines').where({
        subject_id: f.id,
        kind: 'follow_up.due',
        status: 'pending',
      });
      expect(due.map((d) => d.due_at.toISOString())).toEqual(['2026-12-09T08:00:00.000Z']);
      const actions = (await auditRows({ subject_id: personId, actor_id: team.worker.id }))
        .filter((e) => e.details?.followUpId === f.id || e.details?.followUpIds?.includes(f.id))
        .map((e) => e.action);
      expect(actions).toEqual(['follow_up.create', 'follow_up.update', 'follow_up.reassign']);
    });

    it('when reassigned and completed in one PATCH, then it is done, held by the new assignee, its deadlines cancelled, and nobody is handed a done follow-up', async () => {
      const f = await create();
      const res = await manager
        .patch(`/api/follow-ups/${f.id}`)
        .send({ assigneeId: team.worker2.id, status: 'done' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ assigneeId: team.worker2.id, status: 'done' });
      const deadlines = await testKnex()('deadlines').where({ subject_id: f.id });
      expect(deadlines.filter((d) => d.status === 'pending')).toEqual([]);
      expect(
        await testKnex()('notifications').where({ kind: 'follow_up.reassigned', subject_id: f.id }),
      ).toEqual([]);
    });

    it('when a worker is neither assignee nor author, then 403 and nothing changes', async () => {
      const f = await create();
      const res = await worker2.patch(`/api/follow-ups/${f.id}`).send({ status: 'done' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      const row = await testKnex()('follow_ups').where({ id: f.id }).first();
      expect(row.status).toBe('open');
    });

    it("when a manager changes anyone's follow-up, then 200", async () => {
      const f = await create();
      const res = await manager.patch(`/api/follow-ups/${f.id}`).send({ status: 'cancelled' });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('cancelled');
    });

    it('when the version is stale, then 409 with the current follow-up, and that read is audited once', async () => {
      const f = await create();
      await worker.patch(`/api/follow-ups/${f.id}`).send({ title: 'Un', version: 1 }).expect(200);
      const res = await worker.patch(`/api/follow-ups/${f.id}`).send({ title: 'Deux', version: 1 });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('stale_version');
      expect(res.body.error.details.current).toMatchObject({
        version: 2,
        personLabel: 'Personne test',
      });
      const reads = await auditRows({ action: 'follow_up.read', actor_id: team.worker.id });
      expect(reads.filter((r) => r.details.followUpId === f.id)).toEqual([
        expect.objectContaining({
          subject_type: 'person',
          subject_id: personId,
          details: { followUpId: f.id, reason: 'conflict' },
        }),
      ]);
    });

    it.each([
      [{}, 'status'],
      // Reopening (status open) is an undo of its own, with nothing else.
      [{ status: 'open', title: 'Autre' }, 'status'],
      [{ dueAt: 'demain' }, 'dueAt'],
      [{ assigneeId: 'x' }, 'assigneeId'],
      [{ status: 'cancelled', note: 'fait' }, 'note'],
      [{ status: 'done', note: 'x'.repeat(281) }, 'note'],
      [{ status: 'done', version: 1e12 }, 'version'],
    ])('when the body is %j, then 400 naming %s', async (body, field) => {
      const f = await create();
      const res = await worker.patch(`/api/follow-ups/${f.id}`).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    it('when the follow-up is of another structure or unknown, then 404; a bad id is 400 naming id', async () => {
      const outsider = await loginAs(ctx.app, other.manager.email);
      const f = await create();
      expect(
        (await outsider.patch(`/api/follow-ups/${f.id}`).send({ status: 'done' })).status,
      ).toBe(404);
      expect((await outsider.get('/api/follow-ups').query({ personId })).body.total).toBe(0);
      const bad = await worker.patch('/api/follow-ups/42').send({ status: 'done' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details[0].field).toBe('id');
    });
  });

  it('when nobody is signed in, then 401', async () => {
    expect((await request(ctx.app).get('/api/follow-ups')).status).toBe(401);
    expect(
      (
        await request(ctx.app)
          .patch('/api/follow-ups/5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f')
          .send({ status: 'done' })
      ).status,
    ).toBe(401);
  });
});
