import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { createPerson, type Agent } from './helpers';

interface Candidate {
  id: string;
  score: number;
  reasons: { field: string; similarity?: number }[];
}

/**
 * GET /api/persons/duplicates: the files that may be the person being recorded, best first,
 * each with why. A fixture of near misses: accents, typos, a phone written another way, a
 * namesake, a birth year in common, another structure's twin.
 */
describe('possible duplicates API', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let ids: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestContext();
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    worker = await loginAs(ctx.app, team.worker.email);
    const outsider = await loginAs(ctx.app, other.worker.email);
    const make = async (agent: Agent, body: Record<string, unknown>) =>
      (await createPerson(agent, { alias: null, ...body })).id;
    ids = {
      // Accents and a typo in the last name, the same birth year.
      lefevre: await make(worker, {
        firstName: 'Hélène',
        lastName: 'Lefèvre',
        birthYear: 1962,
      }),
      // An alias with the name misspelt, met on the quay typed.
      quai: await make(worker, { alias: 'Mme Lefebre', place: 'quai de Ligny' }),
      // Nothing alike but the phone, written the international way.
      phone: await make(worker, {
        firstName: 'Paul',
        lastName: 'Martin',
        phone: '+33 6 12 34 56 78',
      }),
      // Same first name only: not a duplicate.
      dubois: await make(worker, { firstName: 'Hélène', lastName: 'Dubois', birthYear: 1980 }),
      // Same birth year only: not a duplicate when more is known.
      fontaine: await make(worker, { firstName: 'Marcel', lastName: 'Fontaine', birthYear: 1962 }),
      // Another structure's exact twin: never seen.
      twin: await make(outsider, {
        firstName: 'Hélène',
        lastName: 'Lefebvre',
        birthYear: 1962,
        phone: '06 12 34 56 78',
        place: 'quai Ligny',
      }),
    };
  });
  afterAll(async () => ctx.close());

  const described = {
    firstName: 'Helene',
    lastName: 'Lefebvre',
    birthYear: 1962,
    phone: '06 12 34 56 78',
    place: 'quai Ligny',
  };

  async function duplicates(agent: Agent, query: Record<string, string | number>) {
    const res = await agent.get('/api/persons/duplicates').query(query);
    expect(res.status).toBe(200);
    return res.body as { items: Candidate[]; total: number; page: number; pageSize: number };
  }

  it('when a person is described with accents left out, a typo and a phone written another way, then the near misses come best first, each with why', async () => {
    const res = await duplicates(worker, described);
    expect(res.items.map((c) => c.id)).toEqual([ids.lefevre, ids.quai, ids.phone]);
    expect(res).toMatchObject({ total: 3, page: 1, pageSize: 10 });
    const [lefevre, quai, phone] = res.items;
    expect(lefevre.reasons.map((r) => r.field)).toEqual(['name', 'birthYear']);
    expect(lefevre.reasons[0].similarity).toBeGreaterThan(0.6);
    expect(quai.reasons.map((r) => r.field)).toEqual(['alias', 'place']);
    expect(phone.reasons).toEqual([{ field: 'phone' }]);
    expect(lefevre.score).toBeGreaterThan(quai.score);
    expect(quai.score).toBeGreaterThan(phone.score);
    // A whole person, as the search gives it, for the page to show.
    expect(lefevre).toMatchObject({
      firstName: 'Hélène',
      lastName: 'Lefèvre',
      status: 'identified',
    });
  });

  it('when only a last name with a typo is given, then the files whose name or alias is close are offered', async () => {
    const res = await duplicates(worker, { lastName: 'Lefebvre' });
    expect(res.items.map((c) => c.id).sort()).toEqual([ids.lefevre, ids.quai].sort());
    const quai = res.items.find((c) => c.id === ids.quai)!;
    expect(quai.reasons.map((r) => r.field)).toEqual(['alias']);
  });

  it('when the alias typed holds a known last name, then that file is offered for its name', async () => {
    const res = await duplicates(worker, { alias: 'Mme Lefèvre' });
    const lefevre = res.items.find((c) => c.id === ids.lefevre);
    expect(lefevre?.reasons.map((r) => r.field)).toEqual(['name']);
  });

  it('when only a phone is given, then the file with that number is found however it was written', async () => {
    const res = await duplicates(worker, { phone: '0612345678' });
    expect(res.items.map((c) => c.id)).toEqual([ids.phone]);
  });

  it('when only a place is given, then files met there are offered, accents and small words aside', async () => {
    const res = await duplicates(worker, { place: 'Quai Ligny' });
    expect(res.items.map((c) => c.id)).toEqual([ids.quai]);
    expect(res.items[0].reasons.map((r) => r.field)).toEqual(['place']);
  });

  it('when only a birth year is given, then the files born that year are offered, with that reason', async () => {
    const res = await duplicates(worker, { birthYear: 1962 });
    expect(res.items.map((c) => c.id).sort()).toEqual([ids.lefevre, ids.fontaine].sort());
    for (const c of res.items) expect(c.reasons).toEqual([{ field: 'birthYear' }]);
  });

  it('when nothing resembles, then an empty list', async () => {
    const res = await duplicates(worker, { alias: 'Jeune homme, skate-park de la Roseraie' });
    expect(res).toEqual({ items: [], total: 0, page: 1, pageSize: 10 });
  });

  it('when an anonymised file matched, then it is not offered', async () => {
    const id = (await createPerson(worker, { alias: 'Monsieur Zanzibar' })).id;
    expect(
      (await duplicates(worker, { alias: 'Monsieur Zanzibar' })).items.map((c) => c.id),
    ).toEqual([id]);
    await testKnex()('persons').where({ id }).update({ anonymised_at: new Date() });
    expect((await duplicates(worker, { alias: 'Monsieur Zanzibar' })).total).toBe(0);
  });

  it('when the other structure asks the same, then it sees only its own twin', async () => {
    const outsider = await loginAs(ctx.app, other.worker.email);
    const res = await duplicates(outsider, described);
    expect(res.items.map((c) => c.id)).toEqual([ids.twin]);
    expect(res.items[0].reasons.map((r) => r.field)).toEqual([
      'name',
      'place',
      'phone',
      'birthYear',
    ]);
  });

  it('when the check runs, then it is audited with the ids it showed', async () => {
    await duplicates(worker, { phone: '06 12 34 56 78' });
    const row = await testKnex()('audit_events')
      .where({ action: 'person.duplicates', actor_id: team.worker.id })
      .orderBy('id', 'desc')
      .first();
    expect(row.details).toEqual({ results: 1, ids: [ids.phone] });
  });

  it('when no criterion is given (or only empty ones), then 400 naming alias', async () => {
    for (const query of [{}, { alias: '', phone: '', birthYear: '' }]) {
      const res = await worker.get('/api/persons/duplicates').query(query);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'alias' })]);
    }
  });

  it.each([
    ['birthYear', 'soixante'],
    ['birthYear', '1850'],
    ['phone', 'appelle-moi'],
    ['alias', 'x'.repeat(121)],
    ['nir', '185057800608436'],
  ])('when %s is %s, then 400 naming it', async (field, value) => {
    const res = await worker.get('/api/persons/duplicates').query({ alias: 'A', [field]: value });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain(field);
  });

  it('when a partner, an observer or an admin asks, then 403; nobody signed in, 401', async () => {
    const partner = await createPartner();
    const partnerUser = await createUser(team.structure.id, 'partner', { partnerId: partner.id });
    for (const email of [partnerUser.email, team.observer.email, team.admin.email]) {
      const agent = await loginAs(ctx.app, email);
      const res = await agent.get('/api/persons/duplicates').query({ alias: 'Mme Lefebre' });
      expect(res.status).toBe(403);
    }
    const { default: request } = await import('supertest');
    expect((await request(ctx.app).get('/api/persons/duplicates?alias=A')).status).toBe(401);
  });
});
