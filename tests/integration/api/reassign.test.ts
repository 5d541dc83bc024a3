import crypto from 'node:crypto';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';

const NOW = '2026-11-25T10:00:00.000Z';

describe('reassigning follow-ups (clock fixed at 2026-11-25 10:00 UTC)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    [worker, manager] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const plan = async (personId: string, dueAt: string, title = 'Rappeler') => {
    const res = await worker
      .post(`/api/persons/${personId}/follow-ups`)
      // Some are overdue on purpose: late actions, confirmed.
      .send({ title, dueAt, assigneeId: team.worker.id, allowPast: true });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const pending = (id: string) =>
    testKnex()('deadlines')
      .where({ subject_id: id, kind: 'follow_up.due', status: 'pending' })
      .select('due_at');
  const reassign = (agent: Agent, body: Record<string, unknown>) =>
    agent.post('/api/follow-ups/reassign').send(body);

  it('when a manager moves selected follow-ups, then they change hands, keep their due moment in a new deadline, the old "Suivi à faire" goes, and it is audited', async () => {
    const person = await createPerson(worker, { alias: 'Homme ~50 ans, médiathèque' });
    const late = await plan(person.id, '2026-11-20T09:00:00Z', 'Relancer la CAF');
    const stays = await plan(person.id, '2026-12-20T09:00:00Z', 'Reste');
    // The worker was already told about the late one.
    await testKnex()('notifications').insert({
      structure_id: team.structure.id,
      recipient_id: team.worker.id,
      kind: 'follow_up.due',
      subject_type: 'follow_up',
      subject_id: late,
      due_moment: '2026-11-20T09:00:00Z',
      title: 'Suivi à faire : Relancer la CAF',
    });

    const res = await reassign(manager, { toAssigneeId: team.worker2.id, ids: [late] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      toAssigneeId: team.worker2.id,
      followUpIds: [late],
      personIds: [],
      activePersonIds: [],
    });

    const rows = await testKnex()('follow_ups').whereIn('id', [late, stays]).orderBy('due_at');
    expect(rows.map((r) => r.assignee_id)).toEqual([team.worker2.id, team.worker.id]);
    expect(rows[0].version).toBe(2);
    const deadlines = await testKnex()('deadlines')
      .where({ subject_id: late, kind: 'follow_up.due' })
      .orderBy('created_at');
    expect(deadlines.map((d) => d.status)).toEqual(['cancelled', 'pending']);
    expect(new Date(deadlines[1].due_at).toISOString()).toBe('2026-11-20T09:00:00.000Z');
    expect(
      await testKnex()('notifications').where({ subject_id: late, kind: 'follow_up.due' }),
    ).toHaveLength(0);

    const [told] = await testKnex()('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'follow_up.reassigned',
    });
    expect(told).toMatchObject({
      title: `Suivi confié par ${team.manager.name} : Relancer la CAF`,
      body: 'Pour : Homme ~50 ans, médiathèque',
      link: `/personnes/${person.id}`,
    });
    const [audit] = await auditRows({ action: 'follow_up.reassign', subject_id: person.id });
    expect(audit).toMatchObject({
      actor_id: team.manager.id,
      details: { followUpIds: [late], from: [team.worker.id], to: team.worker2.id },
    });
  });

  it('when a manager hands several follow-ups to another manager, then the notice leads to their « Mes actions », not to the team’s backlog at /', async () => {
    const colleague = await createUser(team.structure.id, 'manager');
    const person = await createPerson(worker, { alias: 'Femme ~40 ans, quai Ligny' });
    const ids = [
      await plan(person.id, '2026-11-30T09:00:00Z', 'Appeler la CAF'),
      await plan(person.id, '2026-12-02T09:00:00Z', 'Envoyer le courrier'),
    ];
    const res = await reassign(manager, { toAssigneeId: colleague.id, ids });
    expect(res.status).toBe(200);
    const [told] = await testKnex()('notifications').where({
      recipient_id: colleague.id,
      kind: 'follow_up.reassigned',
    });
    expect(told).toMatchObject({
      title: `2 suivis vous ont été confiés par ${team.manager.name}`,
      link: '/mes-actions',
    });
    // Where the colleague finds them.
    const page = await (await loginAs(ctx.app, colleague.email)).get(told.link);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Appeler la CAF');
    expect(page.text).toContain('Envoyer le courrier');
  });

  it("when a leaver's work moves with referents, then all their open follow-ups and files go to the colleague, told once", async () => {
    const leaver = await createUser(team.structure.id, 'worker');
    const a = await createPerson(manager, { alias: 'A', referentId: leaver.id });
    const b = await createPerson(manager, { alias: 'B', referentId: leaver.id });
    const ids: string[] = [];
    for (const [p, due] of [
      [a.id, '2026-11-01T09:00:00Z'],
      [b.id, '2026-12-01T09:00:00Z'],
    ] as const) {
      const r = await manager
        .post(`/api/persons/${p}/follow-ups`)
        .send({ title: 'Visite', dueAt: due, assigneeId: leaver.id, allowPast: true });
      ids.push(r.body.id);
    }
    const done = await manager.post(`/api/persons/${a.id}/follow-ups`).send({
      title: 'Fait',
      dueAt: '2026-11-02T09:00:00Z',
      assigneeId: leaver.id,
      allowPast: true,
    });
    await manager.patch(`/api/follow-ups/${done.body.id}`).send({ status: 'done' });
    // The leaver is disabled before their work is moved: that is allowed.
    await testKnex()('users').where({ id: leaver.id }).update({ disabled_at: NOW });

    const res = await reassign(manager, {
      toAssigneeId: team.worker2.id,
      fromAssigneeId: leaver.id,
      referents: true,
    });
    expect(res.status).toBe(200);
    expect([...res.body.followUpIds].sort()).toEqual([...ids].sort());
    expect([...res.body.personIds].sort()).toEqual([a.id, b.id].sort());
    const open = await testKnex()('follow_ups').where({ assignee_id: leaver.id, status: 'open' });
    expect(open).toHaveLength(0);
    expect(
      (await testKnex()('persons').whereIn('id', [a.id, b.id])).map((p) => p.referent_id),
    ).toEqual([team.worker2.id, team.worker2.id]);
    for (const id of ids) expect(await pending(id)).toHaveLength(1);
    const told = await testKnex()('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'follow_up.reassigned',
      subject_id: team.manager.id,
    });
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({
      title: `2 suivis vous ont été confiés par ${team.manager.name}`,
    });
    expect(told[0].body).toBe('Pour 2 personnes : retrouvez-les dans « Mes actions ».');
    expect(told[0].link).toBe('/mes-actions');
    const files = await testKnex()('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'person.referent_reassigned',
      subject_id: leaver.id,
    });
    expect(files.map((n) => n.title)).toEqual([
      `Vous êtes désormais référent·e de 2 dossiers, confiés par ${team.manager.name}`,
    ]);
    expect(await auditRows({ action: 'person.update', subject_id: a.id })).toHaveLength(1);
  });

  it("when only a leaver's files move, then the new référent is told in the app how many files they now follow, naming no person, once", async () => {
    const leaver = await createUser(team.structure.id, 'worker', { name: 'Claire Départ' });
    const files = [];
    for (const alias of ['Madame Lune, square Jaurès', 'Monsieur Soleil, gare'])
      files.push(await createPerson(manager, { alias, referentId: leaver.id }));
    await testKnex()('users').where({ id: leaver.id }).update({ disabled_at: NOW });

    const res = await reassign(manager, {
      toAssigneeId: team.worker2.id,
      fromAssigneeId: leaver.id,
      referents: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.followUpIds).toEqual([]);
    expect([...res.body.personIds].sort()).toEqual(files.map((f) => f.id).sort());

    const told = await testKnex()('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'person.referent_reassigned',
      subject_id: leaver.id,
    });
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({
      structure_id: team.structure.id,
      subject_type: 'user',
      subject_id: leaver.id,
      title: `Vous êtes désormais référent·e de 2 dossiers, confiés par ${team.manager.name}`,
      body: 'Dossiers dont Claire Départ était référent·e.',
      link: '/personnes',
    });
    expect(new Date(told[0].due_moment).toISOString()).toBe(NOW);
    for (const word of ['Lune', 'Soleil', files[0].id, files[1].id])
      expect(JSON.stringify(told[0])).not.toContain(word);
    // The notification went with the move: the same call again moves nothing and tells no one.
    const again = await reassign(manager, {
      toAssigneeId: team.worker2.id,
      fromAssigneeId: leaver.id,
      referents: true,
    });
    expect(again.body).toEqual({
      toAssigneeId: team.worker2.id,
      followUpIds: [],
      personIds: [],
      activePersonIds: [],
    });
    expect(
      await testKnex()('notifications').where({
        recipient_id: team.worker2.id,
        kind: 'person.referent_reassigned',
        subject_id: leaver.id,
      }),
    ).toHaveLength(1);
  });

  it('when a leaver is référent of an open, a closed and an anonymised file, then the open and closed files move, the open one counted apart, and the anonymised one keeps its référent and version', async () => {
    const k = testKnex();
    const leaver = await createUser(team.structure.id, 'worker');
    const [open, closed, anonymised] = await Promise.all(
      ['Ouvert, parvis', 'Clos, gare', 'Anonymisé, quai'].map((alias) =>
        createPerson(manager, { alias, referentId: leaver.id }),
      ),
    );
    await k('persons').where({ id: closed.id }).update({ closed_at: NOW, closed_reason: 'moved' });
    await k('persons').where({ id: anonymised.id }).update({ anonymised_at: NOW });
    const before = await k('persons').where({ id: anonymised.id }).first();
    await k('users').where({ id: leaver.id }).update({ disabled_at: NOW });

    const res = await reassign(manager, {
      toAssigneeId: team.worker2.id,
      fromAssigneeId: leaver.id,
      referents: true,
    });
    expect(res.status).toBe(200);
    expect([...res.body.personIds].sort()).toEqual([open.id, closed.id].sort());
    expect(res.body.activePersonIds).toEqual([open.id]);
    const after = await k('persons').where({ id: anonymised.id }).first();
    expect(after).toMatchObject({ referent_id: leaver.id, version: before.version });
    expect(await auditRows({ action: 'person.update', subject_id: anonymised.id })).toEqual([]);
    const told = await k('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'person.referent_reassigned',
      subject_id: leaver.id,
    });
    expect(told.map((n) => n.title)).toEqual([
      `Vous êtes désormais référent·e de 2 dossiers, dont 1 actif, confiés par ${team.manager.name}`,
    ]);
  });

  it('when several follow-ups moved at once and a file is then anonymised, then no notification still names its person', async () => {
    // A moment of its own: the leaver's move above told worker2 at NOW, and a notification is
    // unique per recipient, kind, subject and moment.
    const at = '2026-11-25T11:00:00.000Z';
    clock.set(at);
    const known = await createPerson(worker, { alias: 'Dame au parapluie rouge' });
    const other = await createPerson(worker, { alias: 'Homme du kiosque' });
    const ids = [
      await plan(known.id, '2026-12-01T09:00:00Z'),
      await plan(other.id, '2026-12-02T09:00:00Z'),
    ];
    expect((await reassign(manager, { toAssigneeId: team.worker2.id, ids })).status).toBe(200);
    const told = await testKnex()('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'follow_up.reassigned',
      subject_type: 'user',
      due_moment: at,
    });
    expect(told).toHaveLength(1);
    // 25 months without activity: the nightly retention anonymises the file.
    await testKnex()('persons')
      .where({ id: known.id })
      .update({ last_activity_at: '2024-10-20T10:00:00Z' });
    const run = await ctx.deps.services.retention.runStructure(team.structure.id);
    expect(run.persons.map((p) => p.id)).toEqual([known.id]);
    const naming = await testKnex()('notifications')
      .where({ structure_id: team.structure.id })
      .andWhere((q) => q.whereILike('body', '%parapluie%').orWhereILike('title', '%parapluie%'));
    expect(naming).toEqual([]);
    clock.set(NOW);
  });

  it('when the new assignee is disabled, of another structure, or not staff, then 422 naming toAssigneeId', async () => {
    const person = await createPerson(worker);
    const id = await plan(person.id, '2026-12-01T09:00:00Z');
    const disabled = await createUser(team.structure.id, 'worker');
    await testKnex()('users').where({ id: disabled.id }).update({ disabled_at: NOW });
    for (const to of [disabled.id, other.worker.id, team.observer.id]) {
      const res = await reassign(manager, { toAssigneeId: to, ids: [id] });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'assignee_unavailable' });
      expect(res.body.error.details[0].field).toBe('toAssigneeId');
    }
    expect((await testKnex()('follow_ups').where({ id }).first()).assignee_id).toBe(team.worker.id);
  });

  it('when the follow-ups or the leaver belong to another structure, then 404 and nothing moves', async () => {
    const theirs = await createPerson(await loginAs(ctx.app, other.worker.email));
    const [f] = await testKnex()('follow_ups')
      .insert({
        structure_id: other.structure.id,
        person_id: theirs.id,
        assignee_id: other.worker.id,
        title: 'Ailleurs',
        due_at: '2026-12-01T09:00:00Z',
      })
      .returning('id');
    expect((await reassign(manager, { toAssigneeId: team.worker2.id, ids: [f.id] })).status).toBe(
      404,
    );
    expect(
      (await reassign(manager, { toAssigneeId: team.worker2.id, fromAssigneeId: other.worker.id }))
        .status,
    ).toBe(404);
    expect((await testKnex()('follow_ups').where({ id: f.id }).first()).assignee_id).toBe(
      other.worker.id,
    );
  });

  it('when the body is incomplete or a worker asks, then 400 naming the field or 403', async () => {
    const none = await reassign(manager, { toAssigneeId: team.worker2.id });
    expect(none.status).toBe(400);
    expect(none.body.error.details[0].field).toBe('ids');
    const referents = await reassign(manager, {
      toAssigneeId: team.worker2.id,
      ids: [crypto.randomUUID()],
      referents: true,
    });
    expect(referents.status).toBe(400);
    expect(referents.body.error.details[0].field).toBe('referents');
    const bad = await reassign(manager, { toAssigneeId: 'x', ids: [crypto.randomUUID()] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('toAssigneeId');
    expect(
      (await reassign(worker, { toAssigneeId: team.worker2.id, ids: [crypto.randomUUID()] }))
        .status,
    ).toBe(403);
  });

  it('when a follow-up is rescheduled, then its stale "Suivi à faire" goes', async () => {
    const person = await createPerson(worker);
    const id = await plan(person.id, '2026-11-24T09:00:00Z');
    await testKnex()('notifications').insert({
      structure_id: team.structure.id,
      recipient_id: team.worker.id,
      kind: 'follow_up.due',
      subject_type: 'follow_up',
      subject_id: id,
      due_moment: '2026-11-24T09:00:00Z',
      title: 'Suivi à faire : Rappeler',
    });
    const res = await worker.patch(`/api/follow-ups/${id}`).send({ dueAt: '2026-12-02T09:00:00Z' });
    expect(res.status).toBe(200);
    expect(await testKnex()('notifications').where({ subject_id: id })).toHaveLength(0);
    expect((await pending(id)).map((d) => new Date(d.due_at).toISOString())).toEqual([
      '2026-12-02T09:00:00.000Z',
    ]);
  });

  it('when a user marks all as read, then every unread notification of theirs is read, nobody else’s', async () => {
    const add = (recipient: string) =>
      testKnex()('notifications').insert({
        structure_id: team.structure.id,
        recipient_id: recipient,
        kind: 'test',
        subject_type: 'follow_up',
        subject_id: crypto.randomUUID(),
        due_moment: NOW,
        title: 'x',
      });
    await Promise.all([add(team.observer.id), add(team.observer.id), add(team.admin.id)]);
    const observer = await loginAs(ctx.app, team.observer.email);
    const res = await observer.post('/api/notifications/read-all');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ read: 2, unread: 0 });
    expect((await observer.get('/api/notifications')).body.unread).toBe(0);
    const admins = await testKnex()('notifications').where({ recipient_id: team.admin.id });
    expect(admins[0].read_at).toBeNull();
  });

  it('when a user marks all as read up to the newest their list showed, then one arriving since stays unread', async () => {
    const add = (title: string, createdAt?: Date) =>
      testKnex()('notifications')
        .insert({
          structure_id: team.structure.id,
          recipient_id: team.worker2.id,
          kind: 'test',
          subject_type: 'follow_up',
          subject_id: crypto.randomUUID(),
          due_moment: NOW,
          title,
          ...(createdAt ? { created_at: createdAt } : {}),
        })
        .returning(['id', 'created_at']);
    const agent = await loginAs(ctx.app, team.worker2.email);
    // What earlier tests told them, read: this test's notices alone are unread.
    expect((await agent.post('/api/notifications/read-all')).status).toBe(200);
    const [listed] = await add('listée', new Date(Date.now() - 60_000));
    const list = await agent.get('/api/notifications').query({ unread: 'true' });
    expect(list.status).toBe(200);
    expect(list.body.newestUnreadAt).toBe(new Date(listed.created_at).toISOString());
    const [since] = await add('arrivée depuis');

    const res = await agent
      .post('/api/notifications/read-all')
      .send({ before: list.body.newestUnreadAt });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ unread: 1 });
    expect(
      await testKnex()('notifications')
        .where({ recipient_id: team.worker2.id })
        .whereNull('read_at')
        .pluck('id'),
    ).toEqual([since.id]);
    expect((await agent.post('/api/notifications/read-all')).body).toEqual({
      read: 1,
      unread: 0,
    });
  });

  it('when a follow-up marked done is reopened, then it is open again with its deadline planned, audited; an open one cannot be reopened', async () => {
    const person = await createPerson(worker);
    const id = await plan(person.id, '2026-12-03T09:00:00Z');
    expect((await worker.patch(`/api/follow-ups/${id}`).send({ status: 'done' })).status).toBe(200);
    expect(await pending(id)).toHaveLength(0);
    const res = await worker.patch(`/api/follow-ups/${id}`).send({ status: 'open' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'open', completedAt: null, canChange: true });
    expect((await pending(id)).map((d) => new Date(d.due_at).toISOString())).toEqual([
      '2026-12-03T09:00:00.000Z',
    ]);
    expect(await auditRows({ action: 'follow_up.reopen', subject_id: person.id })).toHaveLength(1);
    expect((await worker.patch(`/api/follow-ups/${id}`).send({ status: 'open' })).status).toBe(409);
    const mixed = await worker
      .patch(`/api/follow-ups/${id}`)
      .send({ status: 'open', title: 'Autre' });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.details[0].field).toBe('status');
  });

  it('when marked done with a short note, then the note is kept encrypted and shown, and reopening clears it', async () => {
    const person = await createPerson(worker);
    const id = await plan(person.id, '2026-12-03T09:00:00Z');
    const res = await worker
      .patch(`/api/follow-ups/${id}`)
      .send({ status: 'done', note: 'Fait par téléphone, RDV le 3' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'done',
      completionNote: 'Fait par téléphone, RDV le 3',
    });
    expect(res.body).not.toHaveProperty('completionNoteEnc');
    const row = await testKnex()('follow_ups').where({ id }).first();
    expect(row.completion_note_enc).toMatch(/^v1\./);
    expect(row.completion_note_enc).not.toContain('téléphone');
    const reopened = await worker.patch(`/api/follow-ups/${id}`).send({ status: 'open' });
    expect(reopened.body.completionNote).toBeNull();
  });
});
