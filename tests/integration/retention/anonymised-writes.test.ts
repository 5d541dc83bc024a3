import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { csrfOf } from '../../e2e/html';
import { paris } from '../deadlines/time-machine';
import { createPerson, driveTo, giveConsent, refer, referralWorld } from '../referrals/helpers';

/** Saturday 19 December 2026, 23:30 in Paris: the retention run, and every write after it. */
const NOW = paris('2026-12-19T23:30:00');
/** 25 months before: past the default 24 months of retention. */
const LONG_AGO = paris('2024-11-10T10:00:00');

/** What every write below would leave behind about the file, read row by row. */
async function written(personId: string, referralId: string, reportId: string) {
  const k = testKnex();
  const rows = (table: string, where: Record<string, unknown>) =>
    k(table).where(where).orderBy('id').select('*');
  return {
    person: await k('persons').where({ id: personId }).first(),
    contacts: await rows('contacts', { person_id: personId }),
    followUps: await rows('follow_ups', { person_id: personId }),
    consents: await rows('consents', { person_id: personId }),
    rights: await rows('person_rights', { person_id: personId }),
    rightEvents: await rows('person_right_events', { person_id: personId }),
    referrals: await rows('referrals', { person_id: personId }),
    referralEvents: await rows('referral_events', { referral_id: referralId }),
    report: await k('reports').where({ id: reportId }).first(),
    deadlines: await k('deadlines').where({ status: 'pending' }).orderBy('id').select('*'),
    notifications: await k('notifications').orderBy('id').select('*'),
  };
}

describe('an anonymised file takes no new write (409 anonymised), on the API and on the pages', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  let personId: string;
  let consentId: string;
  let referralId: string;
  let followUpId: string;
  let reportId: string;
  let before: Awaited<ReturnType<typeof written>>;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
    personId = (await createPerson(w.agents.worker, { alias: 'Dame au chien' })).id;
    consentId = (await giveConsent(w.agents.worker, personId, w.food.partner.id)).id;
    const ref = await refer(w.agents.worker, personId, w.food.partner.id);
    expect(ref.status).toBe(201);
    referralId = ref.body.id;
    // Accepted by the partner: the help was under way when the file went quiet.
    await driveTo(ctx, w, referralId, 'accepted');
    const fu = await w.agents.worker
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ dueAt: '2026-12-28T10:00:00+01:00', title: 'Rappeler' });
    expect(fu.status).toBe(201);
    followUpId = fu.body.id;
    // A resident's report still waiting for triage, which a worker would link to the file.
    [{ id: reportId }] = await testKnex()('reports')
      .insert({
        structure_id: w.team.structure.id,
        receipt_number: 'ANONYM01',
        channel: 'public',
        location_enc: ctx.deps.cipher.encrypt('Parvis de la médiathèque'),
        concern_enc: ctx.deps.cipher.encrypt('Elle dort dehors'),
        created_at: NOW,
      })
      .returning('id');
    await testKnex()('persons').where({ id: personId }).update({ last_activity_at: LONG_AGO });
    const run = await ctx.deps.services.retention.runStructure(w.team.structure.id);
    expect(run.persons.map((p) => p.id)).toEqual([personId]);
    before = await written(personId, referralId, reportId);
  });
  afterAll(async () => ctx.close());

  it('when anonymised, then its open referral is cancelled by the system, the partner told nothing more', async () => {
    expect(before.referrals).toEqual([
      expect.objectContaining({
        id: referralId,
        status: 'cancelled',
        status_reason_code: 'person_anonymised',
        outcome_enc: null,
      }),
    ]);
    expect(before.referralEvents.map((e) => [e.from_status, e.to_status, e.actor_kind])).toEqual(
      expect.arrayContaining([['accepted', 'cancelled', 'system']]),
    );
  });

  const refused = (res: { status: number; body: { error?: { code?: string } } }) => {
    expect({ status: res.status, code: res.body.error?.code }).toEqual({
      status: 409,
      code: 'anonymised',
    });
  };

  it('when staff write on it through the API, then each write is 409 anonymised and nothing is written', async () => {
    const { worker, manager } = w.agents;
    refused(
      await worker.post(`/api/persons/${personId}/contacts`).send({
        occurredAt: '2026-12-19T18:00:00+01:00',
        channel: 'phone',
        outcome: 'reached',
        summary: 'Nouvelle adresse : 5 rue des Acacias',
        privateNote: 'Sa fille s’appelle Leïla',
      }),
    );
    refused(
      await worker
        .post(`/api/persons/${personId}/follow-ups`)
        .send({ dueAt: '2026-12-28T10:00:00+01:00', title: 'Rappeler Mme Benali' }),
    );
    refused(await worker.patch(`/api/follow-ups/${followUpId}`).send({ status: 'open' }));
    refused(
      await worker.post(`/api/persons/${personId}/consents`).send({
        purpose: 'sms_contact',
        method: 'oral',
        givenAt: '2026-12-19T10:00:00+01:00',
      }),
    );
    refused(await worker.post(`/api/consents/${consentId}/revoke`).send({}));
    refused(await refer(worker, personId, w.food.partner.id));
    refused(
      await worker
        .put(`/api/persons/${personId}/rights/rsa`)
        .send({ status: 'not_claimed', reason: 'non_request', note: 'Refuse de demander' }),
    );
    refused(
      await worker.post(`/api/reports/${reportId}/triage`).send({ action: 'link', personId }),
    );
    refused(
      await manager
        .post(`/api/referrals/${referralId}/transitions`)
        .send({ to: 'cancelled', reason: 'Plus de nouvelles' }),
    );
    expect(await written(personId, referralId, reportId)).toEqual(before);
  });

  it('when the partner moves its referral with an outcome, then 409 anonymised and nothing is written', async () => {
    refused(
      await w.agents.partner
        .post(`/api/referrals/${referralId}/transitions`)
        .send({ to: 'completed', outcome: 'Colis remis à Mme Benali, 3 enfants' }),
    );
    expect(await written(personId, referralId, reportId)).toEqual(before);
  });

  it('when a page form is sent on it, then it says so in French with what was typed kept, and nothing is written', async () => {
    const { worker } = w.agents;
    const page = await worker.get(`/personnes/${personId}`);
    expect(page.status).toBe(200);
    const contact = await worker
      .post(`/personnes/${personId}/contacts`)
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        occurredAt: '2026-12-19T18:00',
        channel: 'phone',
        outcome: 'reached',
        summary: 'Nouvelle adresse : 5 rue des Acacias',
      });
    expect(contact.status).toBe(409);
    expect(contact.text).toContain('Cette fiche a été anonymisée');
    expect(contact.text).toContain('Nouvelle adresse : 5 rue des Acacias');
    const triagePage = await worker.get(`/signalements/${reportId}`);
    expect(triagePage.status).toBe(200);
    const triage = await worker
      .post(`/signalements/${reportId}/tri`)
      .type('form')
      .send({ _csrf: csrfOf(triagePage.text), action: 'link', personId });
    expect(triage.status).toBe(409);
    expect(triage.text).toContain('Cette fiche a été anonymisée');
    expect(await written(personId, referralId, reportId)).toEqual(before);
  });
});
