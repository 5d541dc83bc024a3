import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { fixedClock } from '../../../server/lib/clock';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

const garden = {
  name: 'Jardin d’insertion des Rives',
  email: 'contact@jardin.test',
  phone: '02 41 00 00 00',
  area: 'Angers et agglomération',
  howToReach: 'Permanence le mardi matin',
  services: [
    {
      name: 'Chantier d’insertion maraîchage',
      themes: ['remobilisation', 'trouver-un-emploi'],
      audience: ['beneficiaires-rsa'],
      responseDelayDays: 10,
    },
    { name: 'Paniers solidaires', themes: ['equipement-et-alimentation--alimentation'] },
  ],
};

describe('partner directory', () => {
  let ctx: TestContext;
  let w: World;
  const clock = fixedClock('2026-11-24T10:00:00+01:00');

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => ctx.close());

  it('when an admin creates a partner with its services, then 201 with the data·inclusion description', async () => {
    const res = await w.agents.admin.post('/api/partners').send(garden);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: garden.name, stale: false, area: garden.area });
    expect(res.body.services).toHaveLength(2);
    expect(res.body.services[0]).toMatchObject({
      name: 'Chantier d’insertion maraîchage',
      themes: ['remobilisation', 'trouver-un-emploi'],
      responseDelayDays: 10,
      stale: false,
    });
    expect(res.body.services[1].responseDelayDays).toBe(5);
  });

  it('when a worker or a partner user creates a partner, then 403', async () => {
    expect((await w.agents.worker.post('/api/partners').send(garden)).status).toBe(403);
    expect((await w.agents.partner.post('/api/partners').send(garden)).status).toBe(403);
  });

  it('when a theme is not of the data·inclusion vocabulary, then 400 naming it', async () => {
    const res = await w.agents.admin
      .post('/api/partners')
      .send({ ...garden, name: 'X', services: [{ name: 'S', themes: ['cuisine'] }] });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('services.0.themes.0');
  });

  it('when a worker looks for a theme, then partners with a matching service come back', async () => {
    const res = await w.agents.worker.get('/api/partners?theme=equipement-et-alimentation');
    expect(res.status).toBe(200);
    const names = res.body.items.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['Banque alimentaire', garden.name]));
    expect(names).not.toContain('Jardin de Cocagne');
  });

  it('when a partner was not reviewed for 6 months, then it is flagged stale, not offered, and refused for new referrals', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    await testKnex()('partners')
      .where({ id: w.food.partner.id })
      .update({ last_reviewed_at: '2026-05-01T00:00:00Z' });
    await testKnex()('partner_services')
      .where({ partner_id: w.food.partner.id })
      .update({ last_reviewed_at: '2026-05-01T00:00:00Z' });

    const all = await w.agents.worker.get('/api/partners');
    const food = all.body.items.find((p: { id: string }) => p.id === w.food.partner.id);
    expect(food).toMatchObject({ stale: true });
    expect(food.services[0].stale).toBe(true);
    const offered = await w.agents.worker.get('/api/partners?offerable=true');
    expect(offered.body.items.map((p: { id: string }) => p.id)).not.toContain(w.food.partner.id);

    const res = await refer(w.agents.worker, person.id, w.food.partner.id);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('partner_stale');

    // Reviewing it makes it available again.
    expect((await w.agents.admin.post(`/api/partners/${w.food.partner.id}/review`)).status).toBe(
      200,
    );
    expect((await refer(w.agents.worker, person.id, w.food.partner.id)).status).toBe(201);
  });

  it('when only the service is stale, then referring to that service is refused', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    await testKnex()('partner_services')
      .where({ id: w.food.service.id })
      .update({ last_reviewed_at: '2026-01-01T00:00:00Z' });
    const res = await refer(w.agents.worker, person.id, w.food.partner.id, {
      serviceId: w.food.service.id,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('service_stale');
  });

  it('when the service belongs to another partner, then 400 on serviceId', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.other.id);
    const res = await refer(w.agents.worker, person.id, w.other.id, {
      serviceId: w.food.service.id,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('serviceId');
  });

  it('when an observer reads the directory, then 403', async () => {
    expect((await w.agents.observer.get('/api/partners')).status).toBe(403);
  });
});
