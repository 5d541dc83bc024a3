import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';
import { auditRows, type Agent } from './helpers';

describe('teams API', () => {
  let ctx: TestContext;
  let s: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let admin: Agent;
  let worker: Agent;
  let manager: Agent;
  let observer: Agent;
  let otherAdmin: Agent;
  let manager2: { id: string };

  beforeAll(async () => {
    ctx = await createTestContext();
    [s, other] = await Promise.all([createTeam(), createTeam()]);
    manager2 = await createUser(s.structure.id, 'manager');
    [admin, worker, manager, observer, otherAdmin] = await Promise.all([
      loginAs(ctx.app, s.admin.email),
      loginAs(ctx.app, s.worker.email),
      loginAs(ctx.app, s.manager.email),
      loginAs(ctx.app, s.observer.email),
      loginAs(ctx.app, other.admin.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const fields = (res: { body: { error: { details?: { field: string }[] } } }) =>
    (res.body.error.details ?? []).map((d) => d.field);

  let teamId: string;

  it('when an admin creates a team with members and a manager, then 201 with both lists, audited', async () => {
    const res = await admin.post('/api/teams').send({
      name: 'Équipe mobile',
      memberIds: [s.worker.id, s.worker2.id],
      managerIds: [s.manager.id],
    });
    expect(res.status).toBe(201);
    teamId = res.body.id;
    expect(res.body.name).toBe('Équipe mobile');
    expect(res.body.members.map((m: { id: string }) => m.id).sort()).toEqual(
      [s.worker.id, s.worker2.id].sort(),
    );
    expect(res.body.managers.map((m: { id: string }) => m.id)).toEqual([s.manager.id]);
    expect(await auditRows({ action: 'team.create', subject_id: teamId })).toHaveLength(1);
  });

  it('when staff list the teams, then they see their structure’s only; observers get 403', async () => {
    for (const agent of [worker, manager, admin]) {
      const res = await agent.get('/api/teams');
      expect(res.status).toBe(200);
      expect(res.body.items.map((t: { id: string }) => t.id)).toEqual([teamId]);
    }
    expect((await otherAdmin.get('/api/teams')).body.items).toEqual([]);
    expect((await observer.get('/api/teams')).status).toBe(403);
  });

  it('when a worker or a manager tries to write a team, then 403', async () => {
    expect((await worker.post('/api/teams').send({ name: 'X' })).status).toBe(403);
    expect((await manager.patch(`/api/teams/${teamId}`).send({ name: 'X' })).status).toBe(403);
  });

  it('when the body is wrong, then 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'name'],
      [{ name: 'A', memberIds: ['nope'] }, 'memberIds.0'],
      [{ name: 'A', colour: 'red' }, 'colour'],
      [{}, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post('/api/teams').send(body);
      expect(res.status).toBe(400);
      expect(fields(res)).toContain(field);
    }
    const patch = await admin.patch(`/api/teams/${teamId}`).send({});
    expect(patch.status).toBe(400);
    expect((await admin.patch('/api/teams/not-a-uuid').send({ name: 'B' })).status).toBe(400);
  });

  it('when an admin of another structure reads or changes the team, then 404', async () => {
    expect((await otherAdmin.get(`/api/teams/${teamId}`)).status).toBe(404);
    expect((await otherAdmin.patch(`/api/teams/${teamId}`).send({ name: 'Pris' })).status).toBe(
      404,
    );
  });

  it('when a team is given a disabled user, a user of another structure, or a worker as manager, then 422 and nothing changes', async () => {
    const leaver = await createUser(s.structure.id, 'worker');
    await testKnex()('users').where({ id: leaver.id }).update({ disabled_at: new Date() });
    const cases: [Record<string, unknown>, string][] = [
      [{ memberIds: [leaver.id] }, 'user_unavailable'],
      [{ memberIds: [other.worker.id] }, 'user_unavailable'],
      [{ managerIds: [s.worker.id] }, 'not_a_manager'],
      [{ memberIds: [s.observer.id] }, 'not_staff'],
    ];
    for (const [body, code] of cases) {
      const res = await admin.patch(`/api/teams/${teamId}`).send(body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe(code);
    }
    const team = (await admin.get(`/api/teams/${teamId}`)).body;
    expect(team.members).toHaveLength(2);
  });

  it('when a name is taken, then 409', async () => {
    await admin.post('/api/teams').send({ name: 'Accueil' });
    expect((await admin.post('/api/teams').send({ name: 'Accueil' })).status).toBe(409);
    expect((await admin.patch(`/api/teams/${teamId}`).send({ name: 'Accueil' })).status).toBe(409);
    // Another structure may use the same name.
    expect((await otherAdmin.post('/api/teams').send({ name: 'Accueil' })).status).toBe(201);
  });

  it('when an admin renames and replaces the managers, then the lists follow', async () => {
    const res = await admin
      .patch(`/api/teams/${teamId}`)
      .send({ name: 'Maraude', managerIds: [manager2.id], memberIds: [s.worker.id] });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Maraude');
    expect(res.body.managers.map((m: { id: string }) => m.id)).toEqual([manager2.id]);
    expect(res.body.members.map((m: { id: string }) => m.id)).toEqual([s.worker.id]);
  });

  describe('managersOf, for escalations', () => {
    it('when a worker belongs to a led team, then the team’s managers; otherwise every manager of the structure', async () => {
      const teams = ctx.deps.services.teams;
      const knex = ctx.deps.knex;
      expect((await teams.managersOf(knex, s.structure.id, s.worker.id)).map((u) => u.id)).toEqual([
        manager2.id,
      ]);
      // worker2 left the team in the previous case: no team, so every active manager.
      expect(
        (await teams.managersOf(knex, s.structure.id, s.worker2.id)).map((u) => u.id).sort(),
      ).toEqual([s.manager.id, manager2.id].sort());
      // A disabled lead is skipped.
      await testKnex()('users').where({ id: manager2.id }).update({ disabled_at: new Date() });
      try {
        expect(
          (await teams.managersOf(knex, s.structure.id, s.worker.id)).map((u) => u.id),
        ).toEqual([s.manager.id]);
      } finally {
        await testKnex()('users').where({ id: manager2.id }).update({ disabled_at: null });
      }
      // Never across structures.
      expect(await teams.managersOf(knex, other.structure.id, s.worker.id)).toEqual(
        await teams.managersOf(knex, other.structure.id, other.worker.id),
      );
    });
  });

  it('when the backlog groups by team, then the team’s name labels its group', async () => {
    const person = await worker
      .post('/api/persons')
      .send({ alias: 'Suivi d’équipe', source: 'outreach' });
    await worker
      .post(`/api/persons/${person.body.id}/follow-ups`)
      .send({ dueAt: '2020-01-06T09:00:00Z', title: 'Rappeler', allowPast: true });
    const res = await manager.get(`/api/backlog?groupBy=team&teamId=${teamId}`);
    expect(res.status).toBe(200);
    expect(res.body.groups).toEqual([expect.objectContaining({ key: teamId, label: 'Maraude' })]);
  });

  it('when a change carries the version it was decided on and the team moved since, then 409 with the team as it is now, and nothing changes', async () => {
    const before = (await admin.get(`/api/teams/${teamId}`)).body;
    const moved = await admin
      .patch(`/api/teams/${teamId}`)
      .send({ memberIds: [s.worker.id, s.worker2.id], version: before.version });
    expect(moved.status).toBe(200);
    expect(moved.body.version).toBe(before.version + 1);
    const stale = await admin
      .patch(`/api/teams/${teamId}`)
      .send({ memberIds: [s.worker.id], version: before.version });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect(stale.body.error.details.current.version).toBe(before.version + 1);
    expect(
      stale.body.error.details.current.members.map((m: { id: string }) => m.id).sort(),
    ).toEqual([s.worker.id, s.worker2.id].sort());
    expect(
      await testKnex()('team_members').where({ team_id: teamId, is_lead: false }),
    ).toHaveLength(2);
    // A version that is not one is the field's 400.
    const bad = await admin.patch(`/api/teams/${teamId}`).send({ name: 'X', version: 0 });
    expect(bad.status).toBe(400);
    expect(fields(bad)).toContain('version');
  });

  it('when a user’s teams or role change, then the versions of the teams they leave or join move, so a team form read before is stale', async () => {
    const team = (await admin.get(`/api/teams/${teamId}`)).body;
    const joined = (await admin.post('/api/teams').send({ name: 'Permanence' })).body;
    const changed = await admin.patch(`/api/users/${s.worker2.id}`).send({ teamIds: [joined.id] });
    expect(changed.status).toBe(200);
    const [left, entered] = await Promise.all([
      admin.get(`/api/teams/${teamId}`),
      admin.get(`/api/teams/${joined.id}`),
    ]);
    expect(left.body.version).toBe(team.version + 1);
    expect(entered.body.version).toBe(joined.version + 1);
    // The team's form read before: its members list would have put worker2 back.
    const stale = await admin.patch(`/api/teams/${teamId}`).send({
      memberIds: team.members.map((m: { id: string }) => m.id),
      version: team.version,
    });
    expect(stale.status).toBe(409);
    // A manager made a worker stops leading: the team they led moves too.
    const led = (await admin.get(`/api/teams/${teamId}`)).body;
    expect(led.managers.map((m: { id: string }) => m.id)).toContain(manager2.id);
    expect((await admin.patch(`/api/users/${manager2.id}`).send({ role: 'worker' })).status).toBe(
      200,
    );
    const after = (await admin.get(`/api/teams/${teamId}`)).body;
    expect(after.version).toBe(led.version + 1);
    expect(after.managers).toEqual([]);
  });

  it('when a team is saved without its disabled members (its lists show active users only), then they stay in it and come back when enabled again', async () => {
    const [x, y] = await Promise.all([
      createUser(s.structure.id, 'worker'),
      createUser(s.structure.id, 'worker'),
    ]);
    const team = (await admin.post('/api/teams').send({ name: 'Veille', memberIds: [x.id, y.id] }))
      .body;
    expect((await admin.patch(`/api/users/${x.id}`).send({ disabled: true })).status).toBe(200);
    const shown = (await admin.get(`/api/teams/${team.id}`)).body;
    expect(shown.members.map((m: { id: string }) => m.id)).toEqual([y.id]);
    const saved = await admin
      .patch(`/api/teams/${team.id}`)
      .send({ name: 'Veille sociale', memberIds: [y.id], version: shown.version });
    expect(saved.status).toBe(200);
    expect((await admin.patch(`/api/users/${x.id}`).send({ disabled: false })).status).toBe(200);
    const after = (await admin.get(`/api/teams/${team.id}`)).body;
    expect(after.members.map((m: { id: string }) => m.id).sort()).toEqual([x.id, y.id].sort());
  });

  it('when only a team’s leads change, then the lead’s user version stays (their page lists the teams they belong to); a member added moves theirs', async () => {
    const [lead, member] = await Promise.all([
      createUser(s.structure.id, 'manager'),
      createUser(s.structure.id, 'worker'),
    ]);
    const team = (await admin.post('/api/teams').send({ name: 'Accueil de nuit' })).body;
    const versionOf = async (id: string) => (await admin.get(`/api/users/${id}`)).body.version;
    const [l0, m0] = [await versionOf(lead.id), await versionOf(member.id)];
    expect(
      (await admin.patch(`/api/teams/${team.id}`).send({ managerIds: [lead.id] })).status,
    ).toBe(200);
    expect(await versionOf(lead.id)).toBe(l0);
    expect(
      (await admin.patch(`/api/teams/${team.id}`).send({ memberIds: [member.id] })).status,
    ).toBe(200);
    expect(await versionOf(member.id)).toBe(m0 + 1);
  });

  it('when a manager moves from the leads to the members, then they stay in the team as a member, and back again as a lead', async () => {
    const lead = await createUser(s.structure.id, 'manager');
    const team = (
      await admin.post('/api/teams').send({ name: 'Équipe de nuit', managerIds: [lead.id] })
    ).body;
    const ids = (list: { id: string }[]) => list.map((m) => m.id);

    const demoted = await admin
      .patch(`/api/teams/${team.id}`)
      .send({ memberIds: [lead.id], managerIds: [], version: team.version });
    expect(demoted.status).toBe(200);
    expect([ids(demoted.body.members), ids(demoted.body.managers)]).toEqual([[lead.id], []]);

    const promoted = await admin
      .patch(`/api/teams/${team.id}`)
      .send({ memberIds: [], managerIds: [lead.id], version: demoted.body.version });
    expect(promoted.status).toBe(200);
    expect([ids(promoted.body.members), ids(promoted.body.managers)]).toEqual([[], [lead.id]]);
    const rows = await testKnex()('team_members').where({ team_id: team.id });
    expect(rows.map((r) => [r.user_id, r.is_lead])).toEqual([[lead.id, true]]);
  });
});
