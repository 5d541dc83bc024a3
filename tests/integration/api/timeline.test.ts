import { createTimelineRepository } from '../../../server/features/persons/timeline-repository';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { driveTo, giveConsent, refer, referralWorld } from '../referrals/helpers';
import { createPerson, type Agent } from './helpers';

const timelineRepository = createTimelineRepository();

interface Item {
  type: string;
  id: string;
  at: string;
  data: Record<string, unknown>;
}

describe('person timeline', () => {
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  let worker: Agent;
  let personId: string;
  const ids: Record<string, string> = {};

  const timeline = async (agent: Agent, query: Record<string, number> = {}) => {
    const res = await agent.get(`/api/persons/${personId}/timeline`).query(query);
    expect(res.status).toBe(200);
    return res.body as { items: Item[]; total: number; page: number; pageSize: number };
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    worker = w.agents.worker;
    personId = (await createPerson(worker)).id;
    const contact = (body: Record<string, unknown>) =>
      worker.post(`/api/persons/${personId}/contacts`).send({ channel: 'phone', ...body });
    ids.first = (
      await contact({ occurredAt: '2026-11-01T10:00:00Z', outcome: 'not_reached' }).expect(201)
    ).body.id;
    // Two contacts at the same moment: the id decides, as everywhere in the API.
    ids.twinA = (
      await contact({
        occurredAt: '2026-11-02T10:00:00Z',
        outcome: 'reached',
        summary: 'Résumé partagé',
        privateNote: 'Note de son autrice',
        nextFollowUpAt: '2026-11-05T09:00:00Z',
        allowPast: true,
      }).expect(201)
    ).body.id;
    ids.twinB = (
      await contact({ occurredAt: '2026-11-02T10:00:00Z', outcome: 'refused' }).expect(201)
    ).body.id;
    ids.open = (
      await worker
        .post(`/api/persons/${personId}/follow-ups`)
        .send({ dueAt: '2026-11-20T09:00:00Z', title: 'Visite', allowPast: true })
        .expect(201)
    ).body.id;
    await giveConsent(worker, personId, w.food.partner.id);
    const referral = await refer(worker, personId, w.food.partner.id);
    expect(referral.status).toBe(201);
    ids.referral = referral.body.id;
    await driveTo(ctx, w, ids.referral, 'accepted');

    // Events of someone else, in the same structure and in another one, never show.
    const other = await createPerson(worker);
    await worker
      .post(`/api/persons/${other.id}/contacts`)
      .send({ occurredAt: '2026-11-03T10:00:00Z', channel: 'street', outcome: 'reached' })
      .expect(201);
    const outsider = await loginAs(ctx.app, (await createTeam()).worker.email);
    const theirs = await createPerson(outsider);
    await outsider
      .post(`/api/persons/${theirs.id}/contacts`)
      .send({ occurredAt: '2026-11-03T10:00:00Z', channel: 'street', outcome: 'reached' })
      .expect(201);
  });
  afterAll(async () => ctx.close());

  it('lists contacts, follow-ups and referrals of the person only, newest first, the id breaking ties', async () => {
    const t = await timeline(worker);
    const followUpOfContact = t.items.find(
      (i) => i.type === 'follow_up' && i.data.contactId === ids.twinA,
    )!;
    const twins = [ids.twinA, ids.twinB].sort();
    expect(t.items.map((i) => [i.type, i.id])).toEqual([
      ['referral', ids.referral],
      ['follow_up', ids.open],
      ['follow_up', followUpOfContact.id],
      ['contact', twins[0]],
      ['contact', twins[1]],
      ['contact', ids.first],
    ]);
    expect(t).toMatchObject({ total: 6, page: 1, pageSize: 20 });
    expect(t.items.map((i) => i.at)).toEqual([
      expect.any(String),
      '2026-11-20T09:00:00.000Z',
      '2026-11-05T09:00:00.000Z',
      '2026-11-02T10:00:00.000Z',
      '2026-11-02T10:00:00.000Z',
      '2026-11-01T10:00:00.000Z',
    ]);
  });

  it('carries for each item what its own endpoint returns: the contact, the follow-up, the referral with its events', async () => {
    const t = await timeline(worker);
    const byId = new Map(t.items.map((i) => [i.id, i]));

    const contacts = await worker.get(`/api/persons/${personId}/contacts`);
    for (const c of contacts.body.items) expect(byId.get(c.id)!.data).toEqual(c);
    expect(byId.get(ids.twinA)!.data.privateNote).toBe('Note de son autrice');

    const followUps = await worker.get('/api/follow-ups').query({ personId, status: 'open' });
    expect(followUps.body.total).toBe(2);
    for (const f of followUps.body.items) expect(byId.get(f.id)!.data).toEqual(f);

    const referral = await worker.get(`/api/referrals/${ids.referral}`);
    expect(byId.get(ids.referral)!.data).toEqual(referral.body);
    expect(byId.get(ids.referral)!.at).toBe(referral.body.updatedAt);
    expect((referral.body.events as { toStatus: string }[]).map((e) => e.toStatus)).toEqual([
      'requested',
      'accepted',
    ]);
  });

  it('shows a private note to its author only', async () => {
    for (const agent of [w.agents.worker2, w.agents.manager]) {
      const t = await timeline(agent);
      const twin = t.items.find((i) => i.id === ids.twinA)!;
      expect(twin.data.summary).toBe('Résumé partagé');
      expect(twin.data).not.toHaveProperty('privateNote');
      expect(JSON.stringify(t)).not.toContain('Note de son autrice');
    }
  });

  it('pages in the same order, and a page past the end is empty with the total', async () => {
    const all = (await timeline(worker)).items.map((i) => i.id);
    const pages = [];
    for (const page of [1, 2, 3]) {
      const t = await timeline(worker, { page, pageSize: 2 });
      expect(t).toMatchObject({ total: 6, page, pageSize: 2 });
      pages.push(...t.items.map((i) => i.id));
    }
    expect(pages).toEqual(all);
    expect(await timeline(worker, { page: 4, pageSize: 2 })).toEqual({
      items: [],
      total: 6,
      page: 4,
      pageSize: 2,
    });
  });

  it('is scoped by structure in the query itself: asked for another structure, the person has no events', async () => {
    const mine = await timelineRepository.page(testKnex(), w.team.structure.id, personId, 1, 20);
    expect(mine.total).toBe(6);
    const elsewhere = await createTeam();
    expect(
      await timelineRepository.page(testKnex(), elsewhere.structure.id, personId, 1, 20),
    ).toEqual({ entries: [], total: 0 });
  });
  it('reads the referrals of a page in one go: two referrals cost the same queries as one', async () => {
    const queriesOf = async (id: string) => {
      const seen: string[] = [];
      const listen = (q: { sql: string }) => seen.push(q.sql);
      ctx.deps.knex.on('query', listen);
      try {
        const res = await worker.get(`/api/persons/${id}/timeline`);
        expect(res.status).toBe(200);
        return { count: seen.length, types: res.body.items.map((i: Item) => i.type) };
      } finally {
        ctx.deps.knex.off('query', listen);
      }
    };
    const two = (await createPerson(worker)).id;
    await worker
      .post(`/api/persons/${two}/contacts`)
      .send({ occurredAt: '2026-11-01T10:00:00Z', channel: 'phone', outcome: 'reached' })
      .expect(201);
    await worker
      .post(`/api/persons/${two}/follow-ups`)
      .send({ dueAt: '2026-11-20T09:00:00Z', title: 'Visite', allowPast: true })
      .expect(201);
    for (const partner of [w.food.partner.id, w.other.id]) {
      await giveConsent(worker, two, partner);
      expect((await refer(worker, two, partner)).status).toBe(201);
    }
    const withOne = await queriesOf(personId);
    const withTwo = await queriesOf(two);
    expect(withOne.types.filter((t: string) => t === 'referral')).toHaveLength(1);
    expect(withTwo.types.filter((t: string) => t === 'referral')).toHaveLength(2);
    expect(withTwo.count).toBe(withOne.count);
  });
});
