import { fixedClock } from '../../../server/lib/clock';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { REFERRAL_EXPIRE } from '../../../server/features/referrals/referral-schemas';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { createPerson, giveConsent, refer, referralWorld } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

/** Security item 16: every read and write of a referral or a consent leaves an audit event. */
describe('audit trail of referrals and consents', () => {
  let ctx: TestContext;
  let w: World;
  let personId: string;
  let consentId: string;
  let referralId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-11-24T10:00:00+01:00') });
    w = await referralWorld(ctx.app);
    personId = (await createPerson(w.agents.worker)).id;
    consentId = (await giveConsent(w.agents.worker, personId, w.food.partner.id)).id;
    referralId = (await refer(w.agents.worker, personId, w.food.partner.id)).body.id;
  });
  afterAll(async () => ctx.close());

  /** The events of one action, newest last. */
  const events = (action: string, where: Record<string, unknown> = {}) =>
    testKnex()('audit_events')
      .where({ action, ...where })
      .orderBy('id');

  it('when a worker records a consent, then consent.create names the person, the consent and the partner', async () => {
    const [e] = await events('consent.create', { subject_id: personId });
    expect(e).toMatchObject({
      structure_id: w.team.structure.id,
      actor_id: w.team.worker.id,
      actor_role: 'worker',
      subject_type: 'person',
      details: { consentId, purpose: 'referral', partnerId: w.food.partner.id },
    });
    expect(e.ip).toBeTruthy();
  });

  it('when a worker refers, then referral.create names the person, the partner and the consent', async () => {
    const rows = await events('referral.create', { subject_id: referralId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      structure_id: w.team.structure.id,
      actor_id: w.team.worker.id,
      subject_type: 'referral',
      details: { personId, partnerId: w.food.partner.id, consentId },
    });
  });

  it('when staff and a partner user read it, then each read is a referral.read with its actor', async () => {
    expect((await w.agents.manager.get(`/api/referrals/${referralId}`)).status).toBe(200);
    expect((await w.agents.partner.get(`/api/referrals/${referralId}`)).status).toBe(200);
    const rows = await events('referral.read', { subject_id: referralId });
    expect(rows.map((r) => [r.actor_id, r.actor_role, r.structure_id])).toEqual([
      [w.team.manager.id, 'manager', w.team.structure.id],
      [w.users.p1.id, 'partner', w.team.structure.id],
    ]);
    // A read refused as out of scope reads nothing and records nothing.
    expect((await w.agents.outsider.get(`/api/referrals/${referralId}`)).status).toBe(404);
    expect(await events('referral.read', { actor_id: w.users.outsider.id })).toEqual([]);
  });

  it('when a list is read, then referral.list records which referrals it showed', async () => {
    await w.agents.worker2.get('/api/referrals');
    await w.agents.partner2.get('/api/referrals');
    const [staff] = await events('referral.list', { actor_id: w.team.worker2.id });
    expect(staff).toMatchObject({
      structure_id: w.team.structure.id,
      details: { ids: [referralId] },
    });
    const [partner] = await events('referral.list', { actor_id: w.users.p2.id });
    // Filed under the structure that referred, so that its audit shows who read its people.
    expect(partner).toMatchObject({
      structure_id: w.team.structure.id,
      details: { ids: [referralId] },
    });
  });

  it('when a partner lists referrals from two structures, then each structure gets a referral.list naming its own referrals only', async () => {
    const other = await createTeam();
    const otherWorker = await loginAs(ctx.app, other.worker.email);
    const theirPerson = await createPerson(otherWorker);
    await giveConsent(otherWorker, theirPerson.id, w.food.partner.id);
    const theirs = (await refer(otherWorker, theirPerson.id, w.food.partner.id)).body.id as string;

    const inbox = await w.agents.partner2.get('/api/referrals');
    expect(inbox.body.items.map((r: { id: string }) => r.id).sort()).toEqual(
      [referralId, theirs].sort(),
    );
    const rows = (await events('referral.list', { actor_id: w.users.p2.id })).slice(1);
    expect(
      rows.map((r) => [r.structure_id, r.details.ids]).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    ).toEqual(
      [
        [w.team.structure.id, [referralId]],
        [other.structure.id, [theirs]],
      ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    );
    // A partner of another organisation sees none of them: one event, under no structure.
    await w.agents.outsider.get('/api/referrals');
    const [empty] = await events('referral.list', { actor_id: w.users.outsider.id });
    expect(empty).toMatchObject({ structure_id: null, details: { ids: [] } });
  });

  it("when staff read a person's consents (API or page), then consent.list names the person and the consents shown", async () => {
    expect((await w.agents.worker.get(`/api/persons/${personId}/consents`)).status).toBe(200);
    expect((await w.agents.manager.get(`/personnes/${personId}/orientations`)).status).toBe(200);
    const rows = await events('consent.list', { subject_id: personId });
    expect(rows.map((r) => [r.actor_id, r.structure_id, r.subject_type, r.details])).toEqual([
      [w.team.worker.id, w.team.structure.id, 'person', { ids: [consentId] }],
      [w.team.manager.id, w.team.structure.id, 'person', { ids: [consentId] }],
    ]);
    // Out of scope: 404, and nothing recorded.
    const other = await createTeam();
    const stranger = await loginAs(ctx.app, other.worker.email);
    expect((await stranger.get(`/api/persons/${personId}/consents`)).status).toBe(404);
    expect(await events('consent.list', { actor_id: other.worker.id })).toEqual([]);
  });

  it('when the partner moves it, then referral.transition records the move', async () => {
    await w.agents.partner
      .post(`/api/referrals/${referralId}/transitions`)
      .send({ to: 'accepted' });
    const rows = await events('referral.transition', { subject_id: referralId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: w.users.p1.id,
      actor_role: 'partner',
      structure_id: w.team.structure.id,
      details: { from: 'requested', to: 'accepted' },
    });
    // A refused move (409) leaves no transition event.
    const refused = await w.agents.partner
      .post(`/api/referrals/${referralId}/transitions`)
      .send({ to: 'accepted' });
    expect(refused.status).toBe(409);
    expect(await events('referral.transition', { subject_id: referralId })).toHaveLength(1);
  });

  it('when a move names a stale version, then the 409 hands back the current referral and records it as a referral.read, reason conflict', async () => {
    const conflictReads = async () =>
      (await events('referral.read', { subject_id: referralId })).filter(
        (e) => e.details?.reason === 'conflict',
      );
    // The invalid move of the test before (409 without the current referral) read nothing.
    expect(await conflictReads()).toEqual([]);

    const partner = await w.agents.partner
      .post(`/api/referrals/${referralId}/transitions`)
      .send({ to: 'in_progress', version: 1 });
    expect(partner.status).toBe(409);
    expect(partner.body.error.details.current).toMatchObject({
      id: referralId,
      status: 'accepted',
      person: { displayName: 'Nadia Benali' },
    });
    const staff = await w.agents.worker
      .post(`/api/referrals/${referralId}/transitions`)
      .send({ to: 'cancelled', reason: 'La personne a déménagé', version: 1 });
    expect(staff.status).toBe(409);
    expect(staff.body.error.details.current).toMatchObject({ id: referralId, personId });

    const rows = await conflictReads();
    expect(rows.map((r) => [r.actor_id, r.actor_role, r.structure_id, r.details])).toEqual([
      [w.users.p1.id, 'partner', w.team.structure.id, { reason: 'conflict' }],
      [w.team.worker.id, 'worker', w.team.structure.id, { reason: 'conflict' }],
    ]);
    // Nothing moved, and no transition was recorded.
    expect((await w.agents.worker.get(`/api/referrals/${referralId}`)).body.status).toBe(
      'accepted',
    );
    expect(await events('referral.transition', { subject_id: referralId })).toHaveLength(1);
  });

  it('when the consent is revoked, then consent.revoke names the revoked consents and the cancelled referrals', async () => {
    const res = await w.agents.manager.post(`/api/consents/${consentId}/revoke`);
    expect(res.status).toBe(200);
    const rows = await events('consent.revoke', { subject_id: personId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: w.team.manager.id,
      actor_role: 'manager',
      structure_id: w.team.structure.id,
      subject_type: 'person',
      details: {
        consentId,
        revokedConsentIds: [consentId],
        cancelledReferralIds: [referralId],
      },
    });
    // The cancellation it caused is a system move, with the manager behind it.
    const moves = await events('referral.transition', { subject_id: referralId });
    expect(moves.at(-1)).toMatchObject({
      actor_id: w.team.manager.id,
      actor_role: 'manager',
      structure_id: w.team.structure.id,
      details: { from: 'accepted', to: 'cancelled', by: 'system', reasonCode: 'consent_revoked' },
    });
  });

  it('when the SLA passes, then the expiry is a referral.transition by the system and the re-referral follow-up a follow_up.create', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
    const deadline = await testKnex()('deadlines')
      .where({ subject_id: id, kind: REFERRAL_EXPIRE })
      .first();
    expect(await processDeadline(ctx.deps, processors, REFERRAL_EXPIRE, deadline.id)).toBe('done');

    const [moved] = await events('referral.transition', { subject_id: id });
    expect(moved).toMatchObject({
      actor_id: null,
      actor_role: null,
      structure_id: w.team.structure.id,
      subject_type: 'referral',
      details: { from: 'requested', to: 'expired', by: 'system', reasonCode: 'sla_passed' },
    });
    const followUp = await testKnex()('follow_ups').where({ person_id: person.id }).first();
    const [planned] = await events('follow_up.create', { subject_id: person.id });
    expect(planned).toMatchObject({
      actor_id: null,
      structure_id: w.team.structure.id,
      subject_type: 'person',
      details: { followUpId: followUp.id, referralId: id, purpose: 'reorient', by: 'system' },
    });
  });

  it('then no audit event holds the free text of the referral', async () => {
    const all = await testKnex()('audit_events').where({ structure_id: w.team.structure.id });
    expect(JSON.stringify(all)).not.toMatch(/Besoin alimentaire|Famille de trois|Nadia/);
  });
});
