import type { Express } from 'express';
import { loginAs } from '../../setup/context';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { testKnex } from '../../setup/db';

export type Agent = Awaited<ReturnType<typeof loginAs>>;

/** A partner of the directory with one food service, reviewed today. */
export async function createFoodBank(name = 'Banque alimentaire') {
  const partner = await createPartner(testKnex(), name);
  const [service] = await testKnex()('partner_services')
    .insert({
      partner_id: partner.id,
      name: 'Colis alimentaires',
      themes: ['equipement-et-alimentation--alimentation'],
    })
    .returning('*');
  return { partner, service: service as { id: string; name: string } };
}

/**
 * One structure (worker, second worker, manager, observer, admin), the food bank with two of its
 * staff, another partner with one user, a person and their consent for the food bank.
 */
export async function referralWorld(app: Express) {
  const team = await createTeam();
  const food = await createFoodBank();
  const other = await createPartner(testKnex(), 'Jardin de Cocagne');
  const [p1, p2, outsider] = await Promise.all([
    createUser(team.structure.id, 'partner', { partnerId: food.partner.id }),
    createUser(team.structure.id, 'partner', { partnerId: food.partner.id }),
    createUser(team.structure.id, 'partner', { partnerId: other.id }),
  ]);
  const agents = {
    worker: await loginAs(app, team.worker.email),
    worker2: await loginAs(app, team.worker2.email),
    manager: await loginAs(app, team.manager.email),
    observer: await loginAs(app, team.observer.email),
    admin: await loginAs(app, team.admin.email),
    partner: await loginAs(app, p1.email),
    partner2: await loginAs(app, p2.email),
    outsider: await loginAs(app, outsider.email),
  };
  return { team, food, other, users: { p1, p2, outsider }, agents };
}

export async function createPerson(worker: Agent, body: Record<string, unknown> = {}) {
  const res = await worker.post('/api/persons').send({
    firstName: 'Nadia',
    lastName: 'Benali',
    phone: '06 12 34 56 78',
    email: 'nadia@example.test',
    address: '3 rue des Lilas',
    source: 'outreach',
    situation: 'Situation confidentielle',
    ...body,
  });
  if (res.status !== 201) throw new Error(`person: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

export async function giveConsent(
  worker: Agent,
  personId: string,
  partnerId: string,
  extra: Record<string, unknown> = {},
) {
  const res = await worker.post(`/api/persons/${personId}/consents`).send({
    purpose: 'referral',
    partnerId,
    method: 'oral',
    givenAt: '2026-11-01T10:00:00+01:00',
    ...extra,
  });
  if (res.status !== 201) throw new Error(`consent: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

export async function refer(
  worker: Agent,
  personId: string,
  partnerId: string,
  extra: Record<string, unknown> = {},
) {
  return worker.post(`/api/persons/${personId}/referrals`).send({
    partnerId,
    reason: 'Besoin alimentaire urgent',
    sharedSummary: 'Famille de trois personnes',
    ...extra,
  });
}
