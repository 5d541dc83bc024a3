import { createTestContext, type TestContext } from '../../setup/context';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

const sortedKeys = (o: object) => Object.keys(o).sort();

describe('what each role sees of a referral', () => {
  let ctx: TestContext;
  let w: World;
  let referralId: string;
  let bareId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id, { sharedFields: ['phone'] });
    referralId = (
      await refer(w.agents.worker, person.id, w.food.partner.id, { serviceId: w.food.service.id })
    ).body.id;
    // A person who shared no contact detail, known by an alias only.
    const alias = await createPerson(w.agents.worker, {
      firstName: undefined,
      lastName: undefined,
      alias: 'Homme ~50 ans, parvis',
    });
    await giveConsent(w.agents.worker, alias.id, w.food.partner.id);
    bareId = (
      await refer(w.agents.worker, alias.id, w.food.partner.id, { sharedSummary: undefined })
    ).body.id;
  });
  afterAll(async () => ctx.close());

  const PARTNER_KEYS = [
    'createdAt',
    'events',
    'id',
    'outcome',
    'partner',
    'person',
    'reason',
    // The right the referral serves (null here): the only right of the person a partner sees.
    'right',
    'service',
    'sharedSummary',
    'status',
    'structure',
    'requester',
    'updatedAt',
    'version',
  ].sort();

  it('when a partner user reads a referral, then it gets exactly the referral minimum', async () => {
    for (const agent of [w.agents.partner, w.agents.partner2]) {
      const res = await agent.get(`/api/referrals/${referralId}`);
      expect(res.status).toBe(200);
      expect(sortedKeys(res.body)).toEqual(PARTNER_KEYS);
      expect(res.body.person).toEqual({ displayName: 'Nadia Benali', phone: '06 12 34 56 78' });
      expect(sortedKeys(res.body.structure)).toEqual(['name']);
      expect(sortedKeys(res.body.requester)).toEqual(['name']);
      expect(sortedKeys(res.body.events[0])).toEqual([
        'at',
        'fromStatus',
        'reasonCode',
        'toStatus',
      ]);
      const json = JSON.stringify(res.body);
      for (const secret of ['Situation confidentielle', 'nadia@example.test', 'rue des Lilas'])
        expect(json).not.toContain(secret);
    }
  });

  it.each([
    ['partnerId', () => w.other.id],
    ['personId', () => '00000000-0000-4000-8000-000000000000'],
    ['mine', () => 'true'],
  ])(
    'when a partner user lists its referrals with the unsupported filter %s, then 400 naming it (not ignored)',
    async (name, value) => {
      const res = await w.agents.partner.get('/api/referrals').query({ [name]: value() });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([{ field: name, message: expect.any(String) }]);
    },
  );

  it('when a partner user lists its referrals with a supported filter (status, paging), then 200', async () => {
    const res = await w.agents.partner
      .get('/api/referrals')
      .query({ status: 'requested', page: 1, pageSize: 10 });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
  });

  it('when the person shared no contact detail, then the partner sees the alias only', async () => {
    const res = await w.agents.partner.get(`/api/referrals/${bareId}`);
    expect(res.body.person).toEqual({ displayName: 'Homme ~50 ans, parvis' });
  });

  it('when a referral arrives, then each partner user of that organisation is notified without the person, and no one else', async () => {
    for (const agent of [w.agents.partner, w.agents.partner2]) {
      const notes = await agent.get('/api/notifications');
      const received = notes.body.items.filter(
        (n: { kind: string; subjectId: string }) =>
          n.kind === 'referral.received' && n.subjectId === referralId,
      );
      expect(received).toHaveLength(1);
      expect(received[0].link).toBe(`/orientations/${referralId}`);
      expect(JSON.stringify(received[0])).not.toMatch(/Nadia|Benali|parvis/);
    }
    const outsider = await w.agents.outsider.get('/api/notifications');
    expect(
      outsider.body.items.filter((n: { kind: string }) => n.kind === 'referral.received'),
    ).toEqual([]);
  });

  it('when a partner user lists its inbox, then each item has the same keys', async () => {
    const res = await w.agents.partner.get('/api/referrals');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    for (const item of res.body.items) expect(sortedKeys(item)).toEqual(PARTNER_KEYS);
  });

  it.each(['worker', 'manager'] as const)(
    'when a %s reads it, then it gets the staff view',
    async (role) => {
      const res = await w.agents[role].get(`/api/referrals/${referralId}`);
      expect(res.status).toBe(200);
      expect(sortedKeys(res.body)).toEqual(
        [
          'closedAt',
          'consentId',
          'createdAt',
          'events',
          'id',
          'outcome',
          'partner',
          'person',
          'personId',
          'reason',
          'requester',
          'respondedAt',
          'right',
          'service',
          'sharedSummary',
          'status',
          'statusReasonCode',
          'updatedAt',
          'version',
        ].sort(),
      );
      expect(res.body.person).toEqual({ id: res.body.personId, displayName: 'Nadia Benali' });
      // Staff read the person's file through the person endpoints, not through the referral.
      expect(JSON.stringify(res.body)).not.toMatch(/06 12|nadia@|Lilas|Situation confidentielle/);
    },
  );

  it('when a partner user of another organisation asks, then 404 for reading and moving', async () => {
    expect((await w.agents.outsider.get(`/api/referrals/${referralId}`)).status).toBe(404);
    expect(
      (
        await w.agents.outsider
          .post(`/api/referrals/${referralId}/transitions`)
          .send({ to: 'accepted' })
      ).status,
    ).toBe(404);
    expect((await w.agents.outsider.get('/api/referrals')).body.total).toBe(0);
  });

  it('when staff of another structure asks, then 404', async () => {
    const other = await referralWorld(ctx.app);
    expect((await other.agents.worker.get(`/api/referrals/${referralId}`)).status).toBe(404);
    expect((await other.agents.manager.get('/api/referrals')).body.total).toBe(0);
    expect(
      (
        await other.agents.worker
          .post(`/api/referrals/${referralId}/transitions`)
          .send({ to: 'cancelled', reason: 'x' })
      ).status,
    ).toBe(404);
  });

  it('when an admin or an observer asks, then 403: they see no person data', async () => {
    for (const agent of [w.agents.admin, w.agents.observer]) {
      expect((await agent.get(`/api/referrals/${referralId}`)).status).toBe(403);
      expect((await agent.get('/api/referrals')).status).toBe(403);
    }
  });

  it('when a partner user tries to refer or read a person, then 403', async () => {
    const person = await createPerson(w.agents.worker);
    expect((await w.agents.partner.get(`/api/persons/${person.id}`)).status).toBe(403);
    expect(
      (
        await w.agents.partner
          .post(`/api/persons/${person.id}/referrals`)
          .send({ partnerId: w.food.partner.id, reason: 'x' })
      ).status,
    ).toBe(403);
  });

  it('when a worker lists "mine" and by status, then the filters apply', async () => {
    const mine = await w.agents.worker.get('/api/referrals?mine=true&status=requested');
    expect(mine.body.total).toBe(2);
    const theirs = await w.agents.worker2.get('/api/referrals?mine=true');
    expect(theirs.body.total).toBe(0);
    const all = await w.agents.worker2.get('/api/referrals');
    expect(all.body.total).toBe(2);
  });

  it('when the referral is created, then the person is "supported" and its timeline shows it', async () => {
    const r = await w.agents.worker.get(`/api/referrals/${referralId}`);
    const person = await w.agents.worker.get(`/api/persons/${r.body.personId}`);
    expect(person.body.status).toBe('supported');
    const timeline = await w.agents.worker.get(`/api/persons/${r.body.personId}/timeline`);
    expect(timeline.body.items.map((i: { type: string }) => i.type)).toContain('referral');
  });

  // After the counting tests above: each case adds a referral to the inbox.
  it.each([
    [[], {}],
    [['email'], { email: 'nadia@example.test' }],
    [['address'], { address: '3 rue des Lilas' }],
    [['phone', 'email'], { phone: '06 12 34 56 78', email: 'nadia@example.test' }],
    [
      ['phone', 'email', 'address'],
      { phone: '06 12 34 56 78', email: 'nadia@example.test', address: '3 rue des Lilas' },
    ],
  ] as const)(
    'when the person agreed to share %j, then the partner sees exactly those contact details and none of the others',
    async (sharedFields, shown) => {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.food.partner.id, {
        sharedFields: [...sharedFields],
      });
      const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
      const one = await w.agents.partner.get(`/api/referrals/${id}`);
      const listed = (await w.agents.partner2.get('/api/referrals?pageSize=100')).body.items.find(
        (r: { id: string }) => r.id === id,
      );
      for (const view of [one.body, listed]) {
        expect(sortedKeys(view)).toEqual(PARTNER_KEYS);
        expect(view.person).toEqual({ displayName: 'Nadia Benali', ...shown });
        const json = JSON.stringify(view);
        const all = {
          phone: '06 12 34 56 78',
          email: 'nadia@example.test',
          address: 'rue des Lilas',
        };
        for (const [field, value] of Object.entries(all))
          if (!(field in shown)) expect(json).not.toContain(value);
        expect(json).not.toContain('Situation confidentielle');
      }
    },
  );
});
