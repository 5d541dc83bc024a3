import { DEMO_ACCOUNTS, DEMO_PASSWORD, seedDemo } from '../../../server/seed/demo';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';

describe('demo directory and referral', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
    await seedDemo(ctx.deps.knex, { cipher: ctx.deps.cipher });
  });
  afterAll(async () => ctx.close());

  const account = (role: string) => DEMO_ACCOUNTS.find((a) => a.role === role)!.email;

  it('when the demo is loaded, then the food bank, the home-help service and the insertion garden are offered with their themes', async () => {
    const worker = await loginAs(ctx.app, account('worker'), DEMO_PASSWORD);
    const res = await worker.get('/api/partners?offerable=true');
    expect(res.status).toBe(200);
    const byName = new Map(
      res.body.items.map((p: { name: string; services: { themes: string[] }[] }) => [p.name, p]),
    );
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining([
        "Banque alimentaire de l'Anjou",
        'ADMR Anjou — aide à domicile',
        'Jardin de Cocagne angevin',
      ]),
    );
    const food = byName.get("Banque alimentaire de l'Anjou") as {
      services: { themes: string[] }[];
    };
    expect(food.services.flatMap((s) => s.themes)).toContain(
      'equipement-et-alimentation--alimentation',
    );
  });

  it('when the demo is loaded, then three reports wait for triage (one past its delay), the partner sees its own, and an older one is linked to a person', async () => {
    const worker = await loginAs(ctx.app, account('worker'), DEMO_PASSWORD);
    const waiting = await worker.get('/api/reports?status=pending');
    expect(waiting.body.total).toBe(3);
    const now = Date.now();
    expect(
      waiting.body.items.filter((r: { triageDueAt: string }) => Date.parse(r.triageDueAt) < now),
    ).toHaveLength(1);
    const linked = await worker.get('/api/reports?status=linked');
    expect(linked.body.items).toEqual([
      expect.objectContaining({
        location: 'Skate-park de la Roseraie',
        personId: expect.any(String),
      }),
    ]);
    const partner = await loginAs(ctx.app, account('partner'), DEMO_PASSWORD);
    expect((await partner.get('/api/reports/sent')).body.total).toBe(1);
  });

  it('when the demo partner signs in, then one referral waits in its inbox', async () => {
    const partner = await loginAs(ctx.app, account('partner'), DEMO_PASSWORD);
    const res = await partner.get('/api/referrals');
    expect(res.body.total).toBe(1);
    expect(res.body.items[0]).toMatchObject({
      status: 'requested',
      reason: 'Aide alimentaire d’urgence',
    });
  });

  it('when the demo is loaded, then its persons show non-take-up right by right: reasons, claims, amounts, a resolved path', async () => {
    const worker = await loginAs(ctx.app, account('worker'), DEMO_PASSWORD);
    const persons = (await worker.get('/api/persons?pageSize=100')).body.items as {
      id: string;
      status: string;
      alias: string | null;
      firstName: string | null;
      lastName: string | null;
    }[];
    const statuses = new Set<string>();
    const reasons = new Set<string>();
    let amounts = 0;
    for (const p of persons) {
      const res = await worker.get(`/api/persons/${p.id}/rights`);
      expect(res.status).toBe(200);
      for (const r of res.body.items) {
        statuses.add(r.status);
        if (r.reason) reasons.add(r.reason);
        if (r.monthlyAmount) amounts += r.monthlyAmount;
        expect(r.history.length).toBeGreaterThan(0);
      }
    }
    expect([...statuses].sort()).toEqual(
      ['claim_in_progress', 'not_claimed', 'obtained', 'refused'].sort(),
    );
    expect([...reasons].sort()).toEqual(
      ['non_knowledge', 'non_proposal', 'non_receipt', 'non_request'].sort(),
    );
    expect(amounts).toBeGreaterThan(0);
    expect(persons.find((p) => p.lastName === 'Fontaine')?.status).toBe('resolved');
    const partner = await loginAs(ctx.app, account('partner'), DEMO_PASSWORD);
    const inbox = await partner.get('/api/referrals');
    expect(inbox.body.items[0].right).toMatchObject({ code: 'aide_alimentaire' });
  });

  it('when the demo is loaded, then persons carry a place and Marcel, signalled twice, is offered as a likely duplicate a manager can merge', async () => {
    const worker = await loginAs(ctx.app, account('worker'), DEMO_PASSWORD);
    const persons = (await worker.get('/api/persons?pageSize=100')).body.items as {
      id: string;
      place: string | null;
      lastName: string | null;
    }[];
    expect(persons.filter((p) => p.place).length).toBeGreaterThanOrEqual(2);
    const byPlace = await worker.get('/api/persons').query({ q: 'mediatheque toussaint' });
    expect(byPlace.body.total).toBe(1);
    const original = persons.find((p) => p.lastName === 'Fontaine')!;
    const twice = persons.find((p) => p.lastName === 'Fontaines')!;
    const offered = await worker
      .get('/api/persons/duplicates')
      .query({ firstName: 'Marcel', lastName: 'Fontaine', birthYear: 1947 });
    expect(offered.body.items.map((c: { id: string }) => c.id).sort()).toEqual(
      [original.id, twice.id].sort(),
    );
    const manager = await loginAs(ctx.app, account('manager'), DEMO_PASSWORD);
    const page = await manager.get(`/personnes/${original.id}/fusion`);
    expect(page.text).toContain(`/personnes/${original.id}/fusion?avec=${twice.id}`);
  });
});
