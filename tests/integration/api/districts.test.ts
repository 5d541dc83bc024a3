import request from 'supertest';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createPartner, createTeam, createUser } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';

const NOW = '2026-12-03T10:00:00Z';

describe('districts API', () => {
  let ctx: TestContext;
  let s: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let admin: Agent;
  let worker: Agent;
  let manager: Agent;
  let observer: Agent;
  let partner: Agent;
  let otherAdmin: Agent;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    [s, other] = await Promise.all([createTeam(), createTeam()]);
    const p = await createPartner(testKnex(), 'Banque alimentaire', s.structure.id);
    const partnerUser = await createUser(s.structure.id, 'partner', { partnerId: p.id });
    [admin, worker, manager, observer, partner, otherAdmin] = await Promise.all([
      loginAs(ctx.app, s.admin.email),
      loginAs(ctx.app, s.worker.email),
      loginAs(ctx.app, s.manager.email),
      loginAs(ctx.app, s.observer.email),
      loginAs(ctx.app, partnerUser.email),
      loginAs(ctx.app, other.admin.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const fields = (res: { body: { error: { details?: { field: string }[] } } }) =>
    (res.body.error.details ?? []).map((d) => d.field);
  const names = (res: { body: { items: { name: string }[] } }) => res.body.items.map((d) => d.name);

  it('when an admin adds a district, then 201 with the whole district, audited, in their structure only', async () => {
    const res = await admin
      .post('/api/districts')
      .send({ name: 'Belle-Beille', code: ' 490070101 ', qpv: true });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'Belle-Beille',
      code: '490070101',
      qpv: true,
      archivedAt: null,
      version: 1,
    });
    expect(await auditRows({ action: 'district.create', subject_id: res.body.id })).toHaveLength(1);
    const plain = await admin.post('/api/districts').send({ name: 'Centre-ville' });
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ code: null, qpv: false });
    // Staff read them for the person fields; another structure does not see them.
    for (const agent of [worker, manager, admin])
      expect(names(await agent.get('/api/districts'))).toEqual(
        expect.arrayContaining(['Belle-Beille', 'Centre-ville']),
      );
    expect(names(await otherAdmin.get('/api/districts'))).toEqual([]);
  });

  it('when the name is taken in the structure, then 409 conflict; another structure may use it', async () => {
    await admin.post('/api/districts').send({ name: 'Monplaisir' });
    const taken = await admin.post('/api/districts').send({ name: ' Monplaisir ', qpv: true });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('conflict');
    expect(taken.body.error.message).toMatch(/already has a district of this name/);
    expect((await otherAdmin.post('/api/districts').send({ name: 'Monplaisir' })).status).toBe(201);

    const justices = (await admin.post('/api/districts').send({ name: 'Justices' })).body;
    const rename = await admin
      .patch(`/api/districts/${justices.id}`)
      .send({ name: 'Monplaisir', version: justices.version });
    expect(rename.status).toBe(409);
    expect(rename.body.error.code).toBe('conflict');
    const row = await testKnex()('districts').where({ id: justices.id }).first();
    expect(row).toMatchObject({ name: 'Justices', version: 1 });
  });

  it.each([
    ['a worker', () => worker],
    ['a manager', () => manager],
    ['an observer', () => observer],
    ['a partner', () => partner],
  ])('when %s adds or changes a district, then 403 and nothing changes', async (_, agent) => {
    const d = await createDistrict(s.structure.id, `Interdit ${_}`, false);
    const post = await agent()
      .post('/api/districts')
      .send({ name: `Nouveau ${_}` });
    expect(post.status).toBe(403);
    const patch = await agent()
      .patch(`/api/districts/${d.id}`)
      .send({ archived: true, version: 1 });
    expect(patch.status).toBe(403);
    expect(await testKnex()('districts').where({ name: `Nouveau ${_}` })).toHaveLength(0);
    expect((await testKnex()('districts').where({ id: d.id }).first()).archived_at).toBeNull();
  });

  it('when an observer, a partner or nobody asks for the districts, then 403 and 401', async () => {
    expect((await observer.get('/api/districts')).status).toBe(403);
    expect((await partner.get('/api/districts')).status).toBe(403);
    expect((await request(ctx.app).get('/api/districts')).status).toBe(401);
    expect((await request(ctx.app).post('/api/districts').send({ name: 'X' })).status).toBe(401);
  });

  it("when an admin changes another structure's district or an unknown one, then 404 and nothing changes", async () => {
    const theirs = await createDistrict(other.structure.id, 'Ailleurs', false);
    const res = await admin
      .patch(`/api/districts/${theirs.id}`)
      .send({ name: 'Pris', qpv: true, version: 1 });
    expect(res.status).toBe(404);
    expect(await testKnex()('districts').where({ id: theirs.id }).first()).toMatchObject({
      name: 'Ailleurs',
      qpv: false,
      version: 1,
    });
    const unknown = await admin
      .patch('/api/districts/5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f')
      .send({ name: 'X', version: 1 });
    expect(unknown.status).toBe(404);
  });

  it.each([
    [{}, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'Deux\nlignes' }, 'name'],
    [{ name: 'Code', code: 'IRIS 49007' }, 'code'],
    [{ name: 'Code', code: 'A' }, 'code'],
    [{ name: 'Drapeau', qpv: 'oui' }, 'qpv'],
    [{ name: 'Structure', structureId: '5b0c3f3e-8f2a-4c1e-9d4b-0a1b2c3d4e5f' }, 'structureId'],
  ])('when the new district is %j, then 400 naming %s', async (body, field) => {
    const res = await admin.post('/api/districts').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(fields(res)).toEqual([field]);
  });

  it.each([
    [{ name: 'Sans version' }, 'version'],
    [{ version: 1 }, 'name'],
    [{ name: '', version: 1 }, 'name'],
    [{ archived: 'yes', version: 1 }, 'archived'],
    [{ code: 'pas un code', version: 1 }, 'code'],
  ])('when a change is %j, then 400 naming %s', async (body, field) => {
    const d = await createDistrict(s.structure.id);
    const res = await admin.patch(`/api/districts/${d.id}`).send(body);
    expect(res.status).toBe(400);
    expect(fields(res)).toEqual([field]);
    expect((await admin.patch('/api/districts/abc').send({ name: 'X', version: 1 })).status).toBe(
      400,
    );
  });

  it('when an admin renames, flags, sets the code and clears it, then each change moves the version; a stale one is 409 with the district as it is', async () => {
    const d = (await admin.post('/api/districts').send({ name: 'Roseraie' })).body;
    const renamed = await admin
      .patch(`/api/districts/${d.id}`)
      .send({ name: 'La Roseraie', qpv: true, code: 'qn04901m', version: 1 });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      name: 'La Roseraie',
      qpv: true,
      code: 'QN04901M',
      version: 2,
    });
    const cleared = await admin.patch(`/api/districts/${d.id}`).send({ code: null, version: 2 });
    expect(cleared.body).toMatchObject({ name: 'La Roseraie', code: null, qpv: true, version: 3 });
    const stale = await admin.patch(`/api/districts/${d.id}`).send({ qpv: false, version: 2 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect(stale.body.error.details.current).toMatchObject({ id: d.id, qpv: true, version: 3 });
    const audit = await auditRows({ action: 'district.update', subject_id: d.id });
    expect(audit).toHaveLength(2);
  });

  it('when a district is archived, then it leaves the default list, a person in it keeps it, and nobody new may choose it until it is restored', async () => {
    const d = (await admin.post('/api/districts').send({ name: 'Lac de Maine', qpv: true })).body;
    const inIt = await createPerson(worker, { alias: 'Au bord du lac', districtId: d.id });
    const outside = await createPerson(worker, { alias: 'Ailleurs' });

    const archived = await admin
      .patch(`/api/districts/${d.id}`)
      .send({ archived: true, version: d.version });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ archivedAt: '2026-12-03T10:00:00.000Z', version: 2 });
    expect(names(await worker.get('/api/districts'))).not.toContain('Lac de Maine');
    expect(names(await worker.get('/api/districts?archived=true'))).toContain('Lac de Maine');

    // Nothing deleted: the file still names its district, and its edit may send it back.
    const file = await worker.get(`/api/persons/${inIt.id}`);
    expect(file.body).toMatchObject({ districtId: d.id, districtName: 'Lac de Maine' });
    const kept = await worker
      .patch(`/api/persons/${inIt.id}`)
      .send({ alias: 'Près du lac', districtId: d.id, version: file.body.version });
    expect(kept.status).toBe(200);
    expect(kept.body.districtId).toBe(d.id);

    // A new choice of it is refused, naming the field, with the rule's code.
    const created = await worker
      .post('/api/persons')
      .send({ alias: 'Nouveau', source: 'outreach', districtId: d.id });
    expect(created.status).toBe(400);
    expect(created.body.error.details).toEqual([
      expect.objectContaining({ field: 'districtId', code: 'district_archived' }),
    ]);
    const moved = await worker
      .patch(`/api/persons/${outside.id}`)
      .send({ districtId: d.id, version: outside.version });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details[0]).toMatchObject({
      field: 'districtId',
      code: 'district_archived',
    });
    expect((await testKnex()('persons').where({ id: outside.id }).first()).district_id).toBeNull();

    const restored = await admin
      .patch(`/api/districts/${d.id}`)
      .send({ archived: false, version: 2 });
    expect(restored.body).toMatchObject({ archivedAt: null, version: 3 });
    const again = await worker
      .patch(`/api/persons/${outside.id}`)
      .send({ districtId: d.id, version: outside.version });
    expect(again.status).toBe(200);
  });
});
