import crypto from 'node:crypto';
import { REFERRAL_EMAIL_PARTNER } from '../../../server/features/referrals/referral-schemas';
import { createTestContext, type TestContext } from '../../setup/context';
import { countRows, testKnex } from '../../setup/db';
import { binary, pdfTextOf } from '../../setup/pdf';
import { createPerson, giveConsent, referralWorld, type Agent } from '../referrals/helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

const newKey = () => crypto.randomUUID();

/**
 * The API's creations with an Idempotency-Key: a repeat, after the first or while it is in
 * flight, creates nothing and answers as the first did; the same key with another body is a
 * 422; the nightly retention run removes keys older than a day.
 */
describe('Idempotency-Key on the API creations', () => {
  let ctx: TestContext;
  let w: World;
  let worker: Agent;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    worker = w.agents.worker;
    personId = (await createPerson(worker, { address: '3 rue des Lilas\n49000 Angers' })).id;
    await giveConsent(worker, personId, w.food.partner.id);
  });
  afterAll(async () => ctx.close());

  const contact = {
    occurredAt: new Date(Date.now() - 3600 * 1000).toISOString(),
    channel: 'street',
    outcome: 'reached',
    summary: 'Rencontrée devant la gare',
    privateNote: 'Pour moi seule',
    nextFollowUpAt: new Date(Date.now() + 48 * 3600 * 1000).toISOString(),
    nextFollowUpTitle: 'Rappeler pour le dossier CAF',
  };
  const logContact = (
    agent: Agent,
    key: string | null,
    body: Record<string, unknown> = contact,
  ) => {
    const req = agent.post(`/api/persons/${personId}/contacts`);
    return (key === null ? req : req.set('Idempotency-Key', key)).send(body);
  };
  const contacts = () => countRows('contacts', { person_id: personId });
  const followUps = () => countRows('follow_ups', { person_id: personId });

  it('when a contact is posted twice with one key, then one contact and one follow-up exist and both answers are the same 201', async () => {
    const [c0, f0] = [await contacts(), await followUps()];
    const key = newKey();
    const first = await logContact(worker, key);
    const again = await logContact(worker, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(first.body.followUpId).toEqual(expect.any(String));
    expect(first.body.privateNote).toBe('Pour moi seule');
    expect(await contacts()).toBe(c0 + 1);
    expect(await followUps()).toBe(f0 + 1);
    // One creation audited, once.
    const events = await testKnex()('audit_events').where({
      action: 'contact.create',
      subject_id: personId,
    });
    expect(events.filter((e) => e.details.contactId === first.body.id)).toHaveLength(1);
  });

  it('when the same contact is posted four times at once with one key, then one contact is made and every answer names it', async () => {
    const [c0, f0] = [await contacts(), await followUps()];
    const key = newKey();
    const answers = await Promise.all([1, 2, 3, 4].map(() => logContact(worker, key)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.followUpId)).size).toBe(1);
    expect(await contacts()).toBe(c0 + 1);
    expect(await followUps()).toBe(f0 + 1);
  });

  it('when a key is sent again with another body, then 422 idempotency_key_reused and nothing more is made', async () => {
    const key = newKey();
    expect((await logContact(worker, key)).status).toBe(201);
    const c0 = await contacts();
    const other = await logContact(worker, key, { ...contact, summary: 'Autre chose' });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    // Nor is it a key for another kind of creation.
    const plan = await worker
      .post(`/api/persons/${personId}/follow-ups`)
      .set('Idempotency-Key', key)
      .send({ title: 'Appeler', dueAt: contact.nextFollowUpAt });
    expect(plan.status).toBe(422);
    expect(await contacts()).toBe(c0);
  });

  it('when no key is sent, then each post makes its contact, as before', async () => {
    const c0 = await contacts();
    expect((await logContact(worker, null)).status).toBe(201);
    expect((await logContact(worker, null)).status).toBe(201);
    expect(await contacts()).toBe(c0 + 2);
  });

  it('when a colleague sends the same key, then it is theirs: their own contact is made', async () => {
    const key = newKey();
    const mine = await logContact(worker, key);
    const theirs = await logContact(w.agents.worker2, key);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    // A private note is its author's: the colleague's answer is their own contact.
    expect(theirs.body.authorId).toBe(w.team.worker2.id);
  });

  it('when the key is not one (too long, spaces), then 400 names the header and nothing is made', async () => {
    const c0 = await contacts();
    for (const bad of ['x'.repeat(256), 'deux mots']) {
      const res = await logContact(worker, bad);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        expect.objectContaining({ field: 'Idempotency-Key' }),
      ]);
    }
    expect(await contacts()).toBe(c0);
  });

  it('when a referral is posted twice, and twice at once, with one key each, then one referral and one partner email each', async () => {
    const referrals = () => countRows('referrals', { person_id: personId });
    const r0 = await referrals();
    const refer = (key: string) =>
      worker
        .post(`/api/persons/${personId}/referrals`)
        .set('Idempotency-Key', key)
        .send({ partnerId: w.food.partner.id, reason: 'Besoin alimentaire urgent' });
    const key = newKey();
    const first = await refer(key);
    const again = await refer(key);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    const racing = newKey();
    const both = await Promise.all([1, 2].map(() => refer(racing)));
    expect(both.map((b) => b.status)).toEqual([201, 201]);
    expect(both[1].body.id).toBe(both[0].body.id);
    expect(await referrals()).toBe(r0 + 2);
    for (const id of [first.body.id, both[0].body.id])
      expect(await countRows('deadlines', { kind: REFERRAL_EMAIL_PARTNER, subject_id: id })).toBe(
        1,
      );
    // The partner's staff are told once.
    expect(
      await countRows('notifications', { kind: 'referral.received', subject_id: first.body.id }),
    ).toBe(2);
  });

  it('when a person, a follow-up, a consent and a partner report are posted twice with one key each, then one of each', async () => {
    const cases: [string, () => ReturnType<Agent['post']>, string, Record<string, unknown>][] = [
      [
        'persons',
        () => worker.post('/api/persons'),
        'persons',
        { alias: 'Homme au chien, parvis', source: 'outreach' },
      ],
      [
        'follow-ups',
        () => worker.post(`/api/persons/${personId}/follow-ups`),
        'follow_ups',
        { title: 'Accompagner à la CPAM', dueAt: contact.nextFollowUpAt },
      ],
      [
        'consents',
        () => worker.post(`/api/persons/${personId}/consents`),
        'consents',
        {
          purpose: 'referral',
          partnerId: w.other.id,
          method: 'oral',
          givenAt: new Date(Date.now() - 60000).toISOString(),
        },
      ],
      [
        'reports',
        () => w.agents.partner.post('/api/reports'),
        'reports',
        { location: 'Parvis de la gare', concern: 'Dort dehors depuis une semaine' },
      ],
    ];
    for (const [name, post, table, body] of cases) {
      const before = await countRows(table, {});
      const key = newKey();
      const first = await post().set('Idempotency-Key', key).send(body);
      const again = await post().set('Idempotency-Key', key).send(body);
      expect([name, first.status, again.status]).toEqual([name, 201, 201]);
      expect(again.body).toEqual(first.body);
      expect([name, await countRows(table, {})]).toEqual([name, before + 1]);
    }
  });

  it('when an admin posts a partner, a district, a team, an aid of the catalogue and an invitation twice with one key each, then one of each, and the second answer is the first (not a 409 for the name taken)', async () => {
    const admin = w.agents.admin;
    const cases: [string, string, Record<string, unknown>][] = [
      [
        '/api/partners',
        'partners',
        { name: 'Secours populaire', email: 'contact@secours.test', services: [] },
      ],
      ['/api/districts', 'districts', { name: 'Roseraie', qpv: true }],
      ['/api/teams', 'teams', { name: 'Équipe de rue' }],
      ['/api/rights', 'rights', { code: 'aide_cantine', label: 'Aide à la cantine' }],
      ['/api/users', 'users', { name: 'Léa Martin', email: 'lea@example.test', role: 'worker' }],
    ];
    for (const [path, table, body] of cases) {
      const before = await countRows(table, {});
      const key = newKey();
      const first = await admin.post(path).set('Idempotency-Key', key).send(body);
      const again = await admin.post(path).set('Idempotency-Key', key).send(body);
      expect([path, first.status, again.status]).toEqual([path, 201, 201]);
      expect(again.body).toEqual(first.body);
      expect([path, await countRows(table, {})]).toEqual([path, before + 1]);
    }
  });

  it('when a letter is posted twice with one key, then one mail contact is logged and the same letter comes back', async () => {
    const mails = () => countRows('contacts', { person_id: personId, channel: 'mail' });
    const m0 = await mails();
    const key = newKey();
    const body = { kind: 'call', phone: '02 41 05 49 49', hours: 'le mardi matin' };
    const post = () =>
      worker
        .post(`/api/persons/${personId}/letters`)
        .set('Idempotency-Key', key)
        .send(body)
        .buffer(true)
        .parse(binary);
    const first = await post();
    const again = await post();
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers['x-contact-id']).toBe(first.headers['x-contact-id']);
    expect(again.headers['content-disposition']).toBe(first.headers['content-disposition']);
    expect((await pdfTextOf(again.body as Buffer)).text).toBe(
      (await pdfTextOf(first.body as Buffer)).text,
    );
    expect(await mails()).toBe(m0 + 1);
  });

  it('when the nightly retention runs, then keys older than a day are removed and younger ones kept', async () => {
    const structureId = w.team.structure.id;
    const old = newKey();
    const young = newKey();
    await testKnex()('idempotency_keys').insert(
      [old, young].map((key, i) => ({
        user_id: w.team.worker.id,
        structure_id: structureId,
        key,
        action: 'contact.create',
        fingerprint: 'f',
        result: JSON.stringify({}),
        created_at: testKnex().raw(
          i === 0 ? "now() - interval '25 hours'" : "now() - interval '23 hours'",
        ),
      })),
    );
    const dry = await ctx.deps.services.retention.runStructure(structureId, { dryRun: true });
    expect(dry.idempotencyKeysPurged).toBe(1);
    expect(await countRows('idempotency_keys', { key: old })).toBe(1);
    const run = await ctx.deps.services.retention.runStructure(structureId);
    expect(run.idempotencyKeysPurged).toBe(1);
    expect(await countRows('idempotency_keys', { key: old })).toBe(0);
    expect(await countRows('idempotency_keys', { key: young })).toBe(1);
  });
});
