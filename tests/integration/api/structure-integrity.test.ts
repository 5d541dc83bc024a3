import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';

/** Rows that mix two structures are refused by PostgreSQL itself, not only by the repositories. */
describe('cross-structure integrity in the database', () => {
  let a: Awaited<ReturnType<typeof createTeam>>;
  let b: Awaited<ReturnType<typeof createTeam>>;
  let personId: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTeam(), createTeam()]);
    [{ id: personId }] = await testKnex()('persons')
      .insert({ structure_id: a.structure.id, alias: 'Personne A', source: 'outreach' })
      .returning('id');
  });

  const contact = (structureId: string) => ({
    structure_id: structureId,
    person_id: personId,
    author_id: a.worker.id,
    occurred_at: new Date(),
    channel: 'phone',
    outcome: 'reached',
  });
  const followUp = (structureId: string, assigneeId: string) => ({
    structure_id: structureId,
    person_id: personId,
    assignee_id: assigneeId,
    title: 'Rappeler',
    due_at: new Date(),
  });

  it("when a contact names another structure than its person's, then the insert is refused", async () => {
    await expect(testKnex()('contacts').insert(contact(b.structure.id))).rejects.toThrow(
      /contacts_person_id_in_structure/,
    );
    await expect(testKnex()('contacts').insert(contact(a.structure.id))).resolves.toBeDefined();
  });

  it("when a follow-up names another structure than its person's, or an assignee of another structure, then the insert is refused", async () => {
    await expect(
      testKnex()('follow_ups').insert(followUp(b.structure.id, b.worker.id)),
    ).rejects.toThrow(/follow_ups_person_id_in_structure/);
    await expect(
      testKnex()('follow_ups').insert(followUp(a.structure.id, b.worker.id)),
    ).rejects.toThrow(/follow_ups_assignee_id_in_structure/);
    const [ok] = await testKnex()('follow_ups')
      .insert(followUp(a.structure.id, a.worker.id))
      .returning('id');
    await expect(
      testKnex()('follow_ups').where({ id: ok.id }).update({ assignee_id: b.manager.id }),
    ).rejects.toThrow(/follow_ups_assignee_id_in_structure/);
  });

  it('when a person gets a referent of another structure, then the write is refused', async () => {
    await expect(
      testKnex()('persons').insert({
        structure_id: a.structure.id,
        alias: 'Autre',
        source: 'outreach',
        referent_id: b.worker.id,
      }),
    ).rejects.toThrow(/persons_referent_id_in_structure/);
    await expect(
      testKnex()('persons').where({ id: personId }).update({ referent_id: b.worker.id }),
    ).rejects.toThrow(/persons_referent_id_in_structure/);
  });

  it('when a referent user is deleted, then the person loses the referent and keeps its structure', async () => {
    const referent = await createUser(a.structure.id, 'worker');
    await testKnex()('persons').where({ id: personId }).update({ referent_id: referent.id });
    await testKnex()('users').where({ id: referent.id }).del();
    const row = await testKnex()('persons').where({ id: personId }).first();
    expect(row).toMatchObject({ referent_id: null, structure_id: a.structure.id });
  });

  it("when a consent, a referral or a referral's event names another structure than its person's, consent or referral, then the write is refused", async () => {
    const partner = await createPartner(testKnex(), 'Épicerie des Deux Rives');
    const consent = (structureId: string) => ({
      structure_id: structureId,
      person_id: personId,
      purpose: 'referral',
      partner_id: partner.id,
      method: 'oral',
      given_at: new Date(),
    });
    await expect(testKnex()('consents').insert(consent(b.structure.id))).rejects.toThrow(
      /consents_person_id_in_structure/,
    );
    const [c] = await testKnex()('consents').insert(consent(a.structure.id)).returning('id');
    const referral = (structureId: string, consentId: string) => ({
      structure_id: structureId,
      person_id: personId,
      partner_id: partner.id,
      consent_id: consentId,
      requester_id: a.worker.id,
      reason_enc: 'x',
    });
    await expect(testKnex()('referrals').insert(referral(b.structure.id, c.id))).rejects.toThrow(
      /referrals_person_id_in_structure/,
    );
    // The person of B, the consent of A: refused on the consent.
    const [other] = await testKnex()('persons')
      .insert({ structure_id: b.structure.id, alias: 'Personne B', source: 'outreach' })
      .returning('id');
    await expect(
      testKnex()('referrals').insert({
        ...referral(b.structure.id, c.id),
        person_id: other.id,
      }),
    ).rejects.toThrow(/referrals_consent_id_in_structure/);
    const [r] = await testKnex()('referrals')
      .insert(referral(a.structure.id, c.id))
      .returning('id');
    const event = (structureId: string) => ({
      referral_id: r.id,
      structure_id: structureId,
      to_status: 'requested',
      actor_kind: 'user',
      at: new Date(),
    });
    await expect(testKnex()('referral_events').insert(event(b.structure.id))).rejects.toThrow(
      /referral_events_referral_id_in_structure/,
    );
    await expect(
      testKnex()('referral_events').insert(event(a.structure.id)),
    ).resolves.toBeDefined();
  });
});
