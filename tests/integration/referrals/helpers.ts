import type { Express } from 'express';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { REFERRAL_EMAIL_PARTNER } from '../../../server/features/referrals/referral-schemas';
import type { ReferralStatus } from '../../../server/features/referrals/referral-state';
import { loginAs, type TestContext } from '../../setup/context';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { testKnex } from '../../setup/db';
import type { ReceivedEmail } from './smtp';

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

/** The API moves that bring a requested referral to each status (expired is the system's). */
const PATH_TO: Record<
  ReferralStatus,
  [actor: 'partner' | 'worker', to: string, reason?: string][]
> = {
  requested: [],
  accepted: [['partner', 'accepted']],
  rejected: [['partner', 'rejected', 'not_eligible']],
  cancelled: [['worker', 'cancelled', 'La personne a déménagé']],
  in_progress: [
    ['partner', 'accepted'],
    ['partner', 'in_progress'],
  ],
  on_hold: [
    ['partner', 'accepted'],
    ['partner', 'on_hold', 'En attente de pièces'],
  ],
  completed: [
    ['partner', 'accepted'],
    ['partner', 'completed'],
  ],
  failed: [
    ['partner', 'accepted'],
    ['partner', 'failed', 'Injoignable'],
  ],
  expired: [],
};

/**
 * Drives a requested referral to `status` through the real API, as the partner user and the
 * requesting worker would (or the system, for expired); `from` says where it already is.
 */
export async function driveTo(
  ctx: TestContext,
  w: { agents: Record<'partner' | 'worker', Agent> },
  id: string,
  status: ReferralStatus,
  from: ReferralStatus = 'requested',
): Promise<void> {
  const prefix = PATH_TO[from];
  const moves =
    from === 'requested'
      ? PATH_TO[status]
      : status === 'cancelled'
        ? PATH_TO.cancelled
        : PATH_TO[status].slice(prefix.length);
  if (
    from !== 'requested' &&
    status !== 'cancelled' &&
    JSON.stringify(PATH_TO[status].slice(0, prefix.length)) !== JSON.stringify(prefix)
  )
    throw new Error(`no path from ${from} to ${status}`);
  for (const [actor, to, reason] of moves) {
    const res = await w.agents[actor]
      .post(`/api/referrals/${id}/transitions`)
      .send(reason ? { to, reason } : { to });
    if (res.status !== 200) throw new Error(`${to}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  if (status === 'expired') {
    const ok = await testKnex().transaction((trx) => ctx.deps.services.referrals.expire(trx, id));
    if (!ok) throw new Error('the referral did not expire');
  }
}

/**
 * Runs a referral's email deadline of this kind the way the worker does (nothing else consumes
 * the queue in these tests) and returns the email the SMTP server received.
 */
export async function emailFor(
  ctx: TestContext,
  smtp: { received: ReceivedEmail[]; waitFor(n: number): Promise<ReceivedEmail[]> },
  referralId: string,
  kind: string = REFERRAL_EMAIL_PARTNER,
): Promise<ReceivedEmail> {
  const before = smtp.received.length;
  const d = await testKnex()('deadlines').where({ subject_id: referralId, kind }).first('id');
  if (!d) throw new Error(`no ${kind} deadline for referral ${referralId}`);
  const outcome = await processDeadline(ctx.deps, processors, kind, d.id);
  if (outcome !== 'done') throw new Error(`${kind}: ${outcome}`);
  const all = await smtp.waitFor(before + 1);
  return all[all.length - 1];
}

/** Forgets how many links this test process opened: the link pages allow 30 per IP and window. */
export async function resetLinkRateLimit(ctx: TestContext): Promise<void> {
  const keys = await ctx.deps.redis.keys(`${ctx.prefix}:link:ip*`);
  if (keys.length) await ctx.deps.redis.del(...keys);
}
