import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { REFERRAL_OUTCOME_FOLLOW_UP } from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';
import { auditRows, createPerson, type Agent } from './helpers';

const NOW = '2026-12-03T10:00:00Z';

describe('rights API', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  let admin: Agent;
  let observer: Agent;
  let partner: Agent;
  let outsider: Agent;
  let otherAdmin: Agent;
  let partnerId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    const p = await createPartner(testKnex(), 'Banque alimentaire', team.structure.id);
    partnerId = p.id;
    const partnerUser = await createUser(team.structure.id, 'partner', { partnerId: p.id });
    [worker, manager, admin, observer, partner, outsider, otherAdmin] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, team.admin.email),
      loginAs(ctx.app, team.observer.email),
      loginAs(ctx.app, partnerUser.email),
      loginAs(ctx.app, other.worker.email),
      loginAs(ctx.app, other.admin.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const setRight = (agent: Agent, personId: string, code: string, body: Record<string, unknown>) =>
    agent.put(`/api/persons/${personId}/rights/${code}`).send(body);
  const fieldsOf = (res: { body: { error: { details?: { field: string }[] } } }) =>
    (res.body.error.details ?? []).map((d) => d.field);

  describe('the catalogue', () => {
    it('when a worker lists the rights, then the seeded national rights come first, then the CCAS aids', async () => {
      const res = await worker.get('/api/rights');
      expect(res.status).toBe(200);
      const codes = res.body.items.map((r: { code: string }) => r.code);
      for (const code of [
        'rsa',
        'prime_activite',
        'apl',
        'css',
        'aah',
        'aspa',
        'cheque_energie',
        'tarification_transports',
        'domiciliation',
        'aide_alimentaire',
      ])
        expect(codes).toContain(code);
      const kinds = res.body.items.map((r: { kind: string }) => r.kind);
      expect(kinds.indexOf('local')).toBeGreaterThan(kinds.lastIndexOf('national'));
      expect(res.body.total).toBe(res.body.items.length);
    });

    it('when a partner or an observer asks for the catalogue, then 403', async () => {
      expect((await partner.get('/api/rights')).status).toBe(403);
      expect((await observer.get('/api/rights')).status).toBe(403);
    });

    it('when an admin adds a local aid, then 201 with kind local, only in their structure', async () => {
      const res = await admin
        .post('/api/rights')
        .send({ code: 'aide_cantine', label: 'Aide à la cantine scolaire' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        code: 'aide_cantine',
        kind: 'local',
        archivedAt: null,
        version: 1,
      });
      const theirs = await outsider.get('/api/rights');
      expect(theirs.body.items.map((r: { code: string }) => r.code)).not.toContain('aide_cantine');
      const audit = await auditRows({ action: 'right.create', subject_id: res.body.id });
      expect(audit).toHaveLength(1);
    });

    it('when the code is taken, then 409; when it is malformed, then 400 naming code', async () => {
      const taken = await admin.post('/api/rights').send({ code: 'rsa', label: 'Autre RSA' });
      expect(taken.status).toBe(409);
      const bad = await admin.post('/api/rights').send({ code: 'Aide Cantine', label: 'X' });
      expect(bad.status).toBe(400);
      expect(fieldsOf(bad)).toEqual(['code']);
    });

    it('when a worker or a manager tries to add or change a right, then 403', async () => {
      expect((await worker.post('/api/rights').send({ code: 'abc', label: 'Abc' })).status).toBe(
        403,
      );
      expect(
        (await manager.patch('/api/rights/rsa').send({ label: 'RSA', version: 1 })).status,
      ).toBe(403);
    });

    it('when an admin renames, archives and restores a right, then each change bumps its version; archived rights leave the default list', async () => {
      await admin.post('/api/rights').send({ code: 'aide_noel', label: 'Colis de Noël' });
      const renamed = await admin
        .patch('/api/rights/aide_noel')
        .send({ label: 'Colis de fin d’année', version: 1 });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ label: 'Colis de fin d’année', version: 2 });

      const archived = await admin
        .patch('/api/rights/aide_noel')
        .send({ archived: true, version: 2 });
      expect(archived.status).toBe(200);
      expect(archived.body.archivedAt).toBe(NOW.replace('Z', '.000Z'));
      const list = await worker.get('/api/rights');
      expect(list.body.items.map((r: { code: string }) => r.code)).not.toContain('aide_noel');
      const all = await worker.get('/api/rights?archived=true');
      expect(all.body.items.map((r: { code: string }) => r.code)).toContain('aide_noel');

      const restored = await admin
        .patch('/api/rights/aide_noel')
        .send({ archived: false, version: 3 });
      expect(restored.body).toMatchObject({ archivedAt: null, version: 4 });
    });

    it('when the version is stale, then 409 with the current right; an unknown code is 404, also for another structure', async () => {
      const stale = await admin.patch('/api/rights/rsa').send({ label: 'RSA', version: 9 });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('stale_version');
      expect(stale.body.error.details.current).toMatchObject({ code: 'rsa', version: 1 });
      expect(
        (await admin.patch('/api/rights/inconnu').send({ label: 'X', version: 1 })).status,
      ).toBe(404);
      await otherAdmin.post('/api/rights').send({ code: 'aide_ailleurs', label: 'Ailleurs' });
      expect(
        (await admin.patch('/api/rights/aide_ailleurs').send({ label: 'X', version: 1 })).status,
      ).toBe(404);
    });

    it('when neither a label nor archived is given, then 400', async () => {
      const res = await admin.patch('/api/rights/rsa').send({ version: 1 });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['label']);
    });
  });

  describe("a person's rights", () => {
    it.each([
      [{ status: 'not_claimed' }, 'reason'],
      [{ status: 'obtained', reason: 'non_knowledge' }, 'reason'],
      [{ status: 'claim_in_progress', monthlyAmount: 100 }, 'monthlyAmount'],
      [{ status: 'not_claimed', reason: 'non_knowledge', monthlyAmount: 100 }, 'monthlyAmount'],
      [{ status: 'obtained', monthlyAmount: 12.345 }, 'monthlyAmount'],
      [{ status: 'obtained', monthlyAmount: -1 }, 'monthlyAmount'],
      [{ status: 'eligible' }, 'status'],
      [{ status: 'not_claimed', reason: 'shame' }, 'reason'],
      [{ status: 'obtained', amount: 3 }, 'amount'],
      [{ status: 'obtained', version: -1 }, 'version'],
    ])('when the body is %j, then 400 naming %s', async (body, field) => {
      const person = await createPerson(worker);
      const res = await setRight(worker, person.id, 'rsa', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(fieldsOf(res)).toEqual([field]);
    });

    it('when the note is longer than 2000 characters, then 400 naming note', async () => {
      const person = await createPerson(worker);
      const res = await setRight(worker, person.id, 'rsa', {
        status: 'obtained',
        note: 'x'.repeat(2001),
      });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['note']);
    });

    it.each(['non_knowledge', 'non_request', 'non_receipt', 'non_proposal'])(
      'when a right is not claimed for the reason %s, then it is kept',
      async (reason) => {
        const person = await createPerson(worker);
        const res = await setRight(worker, person.id, 'css', { status: 'not_claimed', reason });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ code: 'css', status: 'not_claimed', reason, version: 1 });
      },
    );

    it.each(['claim_in_progress', 'obtained', 'refused', 'abandoned'])(
      'when a right is set to %s without a reason, then it is kept',
      async (status) => {
        const person = await createPerson(worker);
        const res = await setRight(worker, person.id, 'apl', { status });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ status, reason: null, monthlyAmount: null });
      },
    );

    it('when the right code is unknown, then 404; archived, then 422; the person of another structure, then 404', async () => {
      const person = await createPerson(worker);
      const unknown = await setRight(worker, person.id, 'inconnu', { status: 'obtained' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('right_not_found');
      await admin.post('/api/rights').send({ code: 'aide_archivee', label: 'Ancienne aide' });
      await admin.patch('/api/rights/aide_archivee').send({ archived: true, version: 1 });
      const archived = await setRight(worker, person.id, 'aide_archivee', {
        status: 'obtained',
      });
      expect(archived.status).toBe(422);
      expect(archived.body.error.code).toBe('right_archived');
      const elsewhere = await setRight(outsider, person.id, 'rsa', { status: 'obtained' });
      expect(elsewhere.status).toBe(404);
      expect((await outsider.get(`/api/persons/${person.id}/rights`)).status).toBe(404);
    });

    it('when a tracked right is archived, then it stays updatable with its version until it ends; a person who never had it still gets 422', async () => {
      await admin.post('/api/rights').send({ code: 'aide_suivie', label: 'Aide suivie' });
      const person = await createPerson(worker);
      const started = await setRight(worker, person.id, 'aide_suivie', {
        status: 'claim_in_progress',
        version: 0,
      });
      expect(started.status).toBe(200);
      expect(
        (await admin.patch('/api/rights/aide_suivie').send({ archived: true, version: 1 })).status,
      ).toBe(200);

      const obtained = await setRight(worker, person.id, 'aide_suivie', {
        status: 'obtained',
        monthlyAmount: 45.5,
        note: 'Accordée avant l’archivage',
        version: 1,
      });
      expect(obtained.status).toBe(200);
      expect(obtained.body).toMatchObject({
        code: 'aide_suivie',
        archived: true,
        status: 'obtained',
        monthlyAmount: 45.5,
        version: 2,
      });
      expect(obtained.body.history.map((h: { status: string }) => h.status)).toEqual([
        'obtained',
        'claim_in_progress',
      ]);
      // The version still guards it.
      const stale = await setRight(worker, person.id, 'aide_suivie', {
        status: 'abandoned',
        version: 1,
      });
      expect(stale.status).toBe(409);

      const stranger = await createPerson(worker);
      const refused = await setRight(worker, stranger.id, 'aide_suivie', {
        status: 'claim_in_progress',
        version: 0,
      });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('right_archived');
      expect(await testKnex()('person_rights').where({ person_id: stranger.id })).toHaveLength(0);
    });

    it('when a right moves from not claimed to obtained, then each change is kept, newest first, with its amount once obtained', async () => {
      const person = await createPerson(worker);
      await setRight(worker, person.id, 'rsa', {
        status: 'not_claimed',
        reason: 'non_knowledge',
        note: 'Ne connaissait pas le RSA',
      });
      await setRight(worker, person.id, 'rsa', { status: 'claim_in_progress', version: 1 });
      const obtained = await setRight(manager, person.id, 'rsa', {
        status: 'obtained',
        monthlyAmount: 607.75,
        version: 2,
      });
      expect(obtained.status).toBe(200);
      expect(obtained.body).toMatchObject({
        code: 'rsa',
        label: 'Revenu de solidarité active (RSA)',
        status: 'obtained',
        reason: null,
        monthlyAmount: 607.75,
        note: null,
        version: 3,
        updatedByName: team.manager.name,
      });
      expect(
        obtained.body.history.map((h: Record<string, unknown>) => [h.fromStatus, h.status]),
      ).toEqual([
        ['claim_in_progress', 'obtained'],
        ['not_claimed', 'claim_in_progress'],
        [null, 'not_claimed'],
      ]);
      expect(obtained.body.history[2]).toMatchObject({
        reason: 'non_knowledge',
        note: 'Ne connaissait pas le RSA',
        actorName: team.worker.name,
      });

      const list = await worker.get(`/api/persons/${person.id}/rights`);
      expect(list.status).toBe(200);
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).toEqual(obtained.body);

      // The note is encrypted at rest.
      const raw = await testKnex()('person_right_events').where({ person_id: person.id });
      expect(raw.map((r) => r.note_enc).join()).not.toContain('RSA');
    });

    it('when two workers set one right from the same version, then the second gets 409 with the current right', async () => {
      const person = await createPerson(worker);
      const first = await setRight(worker, person.id, 'aah', {
        status: 'claim_in_progress',
        version: 0,
      });
      expect(first.status).toBe(200);
      const second = await setRight(manager, person.id, 'aah', { status: 'refused', version: 0 });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe('stale_version');
      expect(second.body.error.details.current).toMatchObject({
        code: 'aah',
        status: 'claim_in_progress',
        version: 1,
      });
      const stale = await setRight(manager, person.id, 'aah', { status: 'refused', version: 5 });
      expect(stale.status).toBe(409);
      const rows = await testKnex()('person_rights').where({ person_id: person.id });
      expect(rows.map((r) => r.status)).toEqual(['claim_in_progress']);
    });

    it('when rights are read and written, then each access is audited on the person', async () => {
      const person = await createPerson(worker);
      await setRight(worker, person.id, 'aspa', { status: 'not_claimed', reason: 'non_request' });
      await worker.get(`/api/persons/${person.id}/rights`);
      const rows = await auditRows({ subject_id: person.id });
      const actions = rows.map((r) => r.action);
      expect(actions).toContain('person_right.update');
      expect(actions).toContain('person_right.list');
      const update = rows.find((r) => r.action === 'person_right.update');
      expect(update.details).toEqual({ code: 'aspa', from: null, to: 'not_claimed' });
    });

    it('when a right changes, then the change is on the person timeline', async () => {
      const person = await createPerson(worker);
      await setRight(worker, person.id, 'cheque_energie', {
        status: 'not_claimed',
        reason: 'non_receipt',
      });
      const res = await worker.get(`/api/persons/${person.id}/timeline`);
      expect(res.status).toBe(200);
      const item = res.body.items.find((i: { type: string }) => i.type === 'right');
      expect(item.data).toMatchObject({
        code: 'cheque_energie',
        status: 'not_claimed',
        reason: 'non_receipt',
      });
    });

    it("when a partner or an observer asks for a person's rights or sets one, then 403", async () => {
      const person = await createPerson(worker);
      for (const agent of [partner, observer, admin]) {
        expect((await agent.get(`/api/persons/${person.id}/rights`)).status).toBe(403);
        expect((await setRight(agent, person.id, 'rsa', { status: 'obtained' })).status).toBe(403);
      }
    });
  });

  describe('the derived path status', () => {
    const statusOf = async (id: string) => (await worker.get(`/api/persons/${id}`)).body.status;

    it('goes identified → in_contact → supported → resolved → closed, and back to resolved when reopened', async () => {
      const person = await createPerson(worker);
      expect(await statusOf(person.id)).toBe('identified');

      // A right not claimed is tracked, not yet a path: still identified.
      await setRight(worker, person.id, 'rsa', { status: 'not_claimed', reason: 'non_request' });
      expect(await statusOf(person.id)).toBe('identified');

      await worker.post(`/api/persons/${person.id}/contacts`).send({
        occurredAt: '2026-12-02T10:00:00Z',
        channel: 'street',
        outcome: 'reached',
      });
      expect(await statusOf(person.id)).toBe('in_contact');

      await setRight(worker, person.id, 'rsa', { status: 'claim_in_progress' });
      expect(await statusOf(person.id)).toBe('supported');

      await setRight(worker, person.id, 'css', { status: 'not_claimed', reason: 'non_proposal' });
      await setRight(worker, person.id, 'rsa', { status: 'obtained', monthlyAmount: 600 });
      // The CSS is still not claimed: not resolved yet.
      expect(await statusOf(person.id)).toBe('in_contact');

      await setRight(worker, person.id, 'css', { status: 'refused' });
      expect(await statusOf(person.id)).toBe('resolved');

      const read = await worker.get(`/api/persons/${person.id}`);
      const closed = await worker
        .patch(`/api/persons/${person.id}`)
        .send({ closedReason: 'moved', version: read.body.version });
      expect(closed.body.status).toBe('closed');
      const reopened = await worker
        .patch(`/api/persons/${person.id}`)
        .send({ closedReason: null, version: closed.body.version });
      expect(reopened.body.status).toBe('resolved');
    });

    it('when a right is abandoned, then it counts as ended', async () => {
      const person = await createPerson(worker);
      await setRight(worker, person.id, 'domiciliation', { status: 'abandoned' });
      expect(await statusOf(person.id)).toBe('resolved');
    });

    it('when the persons list is filtered by status, right, right status and reason, then only matching persons come back', async () => {
      const a = await createPerson(worker, { alias: 'Filtre A' });
      const b = await createPerson(worker, { alias: 'Filtre B' });
      await setRight(worker, a.id, 'prime_activite', {
        status: 'not_claimed',
        reason: 'non_knowledge',
      });
      await setRight(worker, b.id, 'prime_activite', {
        status: 'not_claimed',
        reason: 'non_request',
      });
      await setRight(worker, b.id, 'aspa', { status: 'obtained' });
      const ids = async (query: string) =>
        (await worker.get(`/api/persons?q=Filtre&${query}`)).body.items.map(
          (p: { id: string }) => p.id,
        );
      expect(await ids('right=prime_activite')).toEqual(expect.arrayContaining([a.id, b.id]));
      expect(await ids('right=prime_activite&reason=non_knowledge')).toEqual([a.id]);
      expect(await ids('rightStatus=obtained')).toEqual([b.id]);
      expect(await ids('right=prime_activite&rightStatus=obtained')).toEqual([]);
      expect(await ids('reason=non_request&status=identified')).toEqual([b.id]);
      const bad = await worker.get('/api/persons?rightStatus=eligible');
      expect(bad.status).toBe(400);
      expect(fieldsOf(bad)).toEqual(['rightStatus']);
    });
  });

  describe('rights and referrals', () => {
    async function personWithConsent() {
      const person = await createPerson(worker);
      const consent = await worker.post(`/api/persons/${person.id}/consents`).send({
        purpose: 'referral',
        partnerId,
        method: 'oral',
        givenAt: '2026-12-01T10:00:00Z',
      });
      expect(consent.status).toBe(201);
      return person;
    }
    const refer = (personId: string, extra: Record<string, unknown> = {}) =>
      worker
        .post(`/api/persons/${personId}/referrals`)
        .send({ partnerId, reason: 'Aide alimentaire', ...extra });

    it('when a referral names an unknown right, then 400 naming rightCode; an archived one, then 422', async () => {
      const person = await personWithConsent();
      const unknown = await refer(person.id, { rightCode: 'inconnu' });
      expect(unknown.status).toBe(400);
      expect(fieldsOf(unknown)).toEqual(['rightCode']);
      await admin.post('/api/rights').send({ code: 'aide_close', label: 'Aide close' });
      await admin.patch('/api/rights/aide_close').send({ archived: true, version: 1 });
      const archived = await refer(person.id, { rightCode: 'aide_close' });
      expect(archived.status).toBe(422);
    });

    it('when a referral names a right, then staff and the partner it is addressed to see that right, and the partner sees no other', async () => {
      const person = await personWithConsent();
      await setRight(worker, person.id, 'rsa', { status: 'not_claimed', reason: 'non_request' });
      const res = await refer(person.id, { rightCode: 'aide_alimentaire' });
      expect(res.status).toBe(201);
      const right = { code: 'aide_alimentaire', label: "Aide alimentaire d'urgence (CCAS)" };
      expect(res.body.right).toEqual(right);

      const seen = await partner.get(`/api/referrals/${res.body.id}`);
      expect(seen.status).toBe(200);
      expect(seen.body.right).toEqual(right);
      expect(JSON.stringify(seen.body)).not.toContain('rsa');
      expect(JSON.stringify(seen.body)).not.toContain('not_claimed');
      const inbox = await partner.get('/api/referrals');
      const mine = inbox.body.items.find((r: { id: string }) => r.id === res.body.id);
      expect(Object.keys(mine).sort()).toEqual(Object.keys(seen.body).sort());
      expect(mine.right).toEqual(right);

      // A referral without a right shows none.
      const plain = await refer(person.id);
      expect((await partner.get(`/api/referrals/${plain.body.id}`)).body.right).toBeNull();
      // Observers read no referral and no right.
      expect((await observer.get(`/api/referrals/${res.body.id}`)).status).toBe(403);
    });

    it("when the partner completes a referral naming a right, then the referent gets a follow-up proposing that right's update", async () => {
      const person = await personWithConsent();
      const res = await refer(person.id, { rightCode: 'aide_alimentaire' });
      for (const to of ['accepted', 'completed'])
        expect(
          (await partner.post(`/api/referrals/${res.body.id}/transitions`).send({ to })).status,
        ).toBe(200);
      const followUps = await testKnex()('follow_ups').where({ person_id: person.id });
      expect(followUps).toHaveLength(1);
      expect(followUps[0]).toMatchObject({
        assignee_id: team.worker.id,
        title: expect.stringContaining(
          "Mettre à jour le droit « Aide alimentaire d'urgence (CCAS) »",
        ),
      });
      expect(followUps[0].title).toContain('est terminée');
    });

    it('when the loop-closing follow-up of an accepted referral naming a right is planned, then its title names that right', async () => {
      const person = await personWithConsent();
      const res = await refer(person.id, { rightCode: 'rsa' });
      await partner.post(`/api/referrals/${res.body.id}/transitions`).send({ to: 'accepted' });
      const planning = await testKnex()('deadlines')
        .where({ subject_id: res.body.id, kind: REFERRAL_OUTCOME_FOLLOW_UP })
        .first();
      expect(
        await processDeadline(ctx.deps, processors, REFERRAL_OUTCOME_FOLLOW_UP, planning.id),
      ).toBe('done');
      const planned = await testKnex()('referral_follow_ups')
        .where({ referral_id: res.body.id, purpose: 'update_right' })
        .first();
      const followUp = await testKnex()('follow_ups').where({ id: planned.follow_up_id }).first();
      expect(followUp.title).toBe(
        "Mettre à jour le droit « Revenu de solidarité active (RSA) » : l'aide de Banque alimentaire a-t-elle abouti ?",
      );
    });

    it('when the right a referral serves is archived meanwhile, then its update is asked only of a file that tracks it', async () => {
      await admin.post('/api/rights').send({ code: 'aide_fermee', label: 'Aide fermée' });
      const tracking = await personWithConsent();
      const other = await personWithConsent();
      const waiting = await personWithConsent();
      await setRight(worker, tracking.id, 'aide_fermee', { status: 'claim_in_progress' });
      const referrals: string[] = [];
      for (const p of [tracking, other, waiting]) {
        const res = await refer(p.id, { rightCode: 'aide_fermee' });
        expect(res.status).toBe(201);
        await partner.post(`/api/referrals/${res.body.id}/transitions`).send({ to: 'accepted' });
        referrals.push(res.body.id as string);
      }
      await admin.patch('/api/rights/aide_fermee').send({ archived: true, version: 1 });
      for (const id of referrals.slice(0, 2))
        expect(
          (await partner.post(`/api/referrals/${id}/transitions`).send({ to: 'completed' })).status,
        ).toBe(200);

      const [asked] = await testKnex()('follow_ups').where({ person_id: tracking.id });
      expect(asked.title).toContain('Mettre à jour le droit « Aide fermée »');
      // The file that never tracked it could not set it: no follow-up asks for it.
      expect(await testKnex()('follow_ups').where({ person_id: other.id })).toHaveLength(0);
      // The loop-closing question of a file that never tracked it asks about its rights at large.
      const loopPlanning = await testKnex()('deadlines')
        .where({ subject_id: referrals[2], kind: REFERRAL_OUTCOME_FOLLOW_UP })
        .first();
      expect(
        await processDeadline(ctx.deps, processors, REFERRAL_OUTCOME_FOLLOW_UP, loopPlanning.id),
      ).toBe('done');
      const loop = await testKnex()('referral_follow_ups')
        .where({ referral_id: referrals[2], purpose: 'update_right' })
        .first();
      expect((await testKnex()('follow_ups').where({ id: loop.follow_up_id }).first()).title).toBe(
        "Mettre à jour les droits : l'aide de Banque alimentaire a-t-elle abouti ?",
      );
    });

    /** Accepts a referral naming RSA and runs its loop-closing follow-up's deadline. */
    async function loopClosed(personId: string) {
      const res = await refer(personId, { rightCode: 'rsa' });
      await partner.post(`/api/referrals/${res.body.id}/transitions`).send({ to: 'accepted' });
      const planning = await testKnex()('deadlines')
        .where({ subject_id: res.body.id, kind: REFERRAL_OUTCOME_FOLLOW_UP })
        .first();
      expect(
        await processDeadline(ctx.deps, processors, REFERRAL_OUTCOME_FOLLOW_UP, planning.id),
      ).toBe('done');
      const loop = await testKnex()('referral_follow_ups')
        .where({ referral_id: res.body.id, purpose: 'update_right' })
        .first();
      return { referralId: res.body.id as string, loopFollowUpId: loop.follow_up_id as string };
    }

    it('when the loop-closing follow-up was marked done and the partner then completes the referral, then the referent gets a second follow-up naming the right and the outcome', async () => {
      const person = await personWithConsent();
      await setRight(worker, person.id, 'rsa', { status: 'claim_in_progress' });
      const { referralId, loopFollowUpId } = await loopClosed(person.id);
      const marked = await worker
        .patch(`/api/follow-ups/${loopFollowUpId}`)
        .send({ status: 'done', version: 1 });
      expect(marked.status).toBe(200);

      const completed = await partner
        .post(`/api/referrals/${referralId}/transitions`)
        .send({ to: 'completed' });
      expect(completed.status).toBe(200);
      const open = await testKnex()('follow_ups').where({ person_id: person.id, status: 'open' });
      expect(open).toHaveLength(1);
      expect(open[0]).toMatchObject({ assignee_id: team.worker.id });
      expect(open[0].id).not.toBe(loopFollowUpId);
      expect(open[0].title).toBe(
        "Mettre à jour le droit « Revenu de solidarité active (RSA) » : l'orientation vers Banque alimentaire est terminée",
      );
    });

    it('when the loop-closing follow-up is still open and the partner fails the referral, then no second follow-up is planned', async () => {
      const person = await personWithConsent();
      const { referralId, loopFollowUpId } = await loopClosed(person.id);
      const failed = await partner
        .post(`/api/referrals/${referralId}/transitions`)
        .send({ to: 'failed', reason: 'Injoignable' });
      expect(failed.status).toBe(200);
      const all = await testKnex()('follow_ups').where({ person_id: person.id });
      expect(all.map((f) => f.id)).toEqual([loopFollowUpId]);
    });

    it('when a referral without a right fails, then no follow-up is planned at once', async () => {
      const person = await personWithConsent();
      const res = await refer(person.id);
      await partner.post(`/api/referrals/${res.body.id}/transitions`).send({ to: 'accepted' });
      await partner
        .post(`/api/referrals/${res.body.id}/transitions`)
        .send({ to: 'failed', reason: 'Injoignable' });
      expect(await testKnex()('follow_ups').where({ person_id: person.id })).toHaveLength(0);
    });

    it('when a referral is open, then the person is supported', async () => {
      const person = await personWithConsent();
      await refer(person.id, { rightCode: 'aide_alimentaire' });
      expect((await worker.get(`/api/persons/${person.id}`)).body.status).toBe('supported');
    });
  });
});
