import { processDeadline } from '../../../jobs/processor';
import { deadlineJobId } from '../../../jobs/queues';
import { processors } from '../../../jobs/registry';
import {
  NOTIFY_SUGGEST_CLOSE,
  PERSON_NO_CONTACT,
} from '../../../server/features/deadlines/rule-kinds';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam, createUser } from '../../setup/factories';
import { createFoodBank, giveConsent, refer } from '../referrals/helpers';
import { createPerson, type Agent } from './helpers';

/** Every table with a person_id column, read from the catalogue (a new one is counted too). */
async function personTables(): Promise<string[]> {
  const rows = await testKnex()('information_schema.columns')
    .where({ table_schema: 'public', column_name: 'person_id' })
    .orderBy('table_name')
    .select('table_name');
  return rows.map((r) => r.table_name as string);
}

/** The tables whose rows hang on a person's rows (by referral or follow-up id) or name it. */
const SUBJECT_TABLES = [
  'notifications',
  'deadlines',
  'audit_events',
  'referral_events',
  'referral_links',
  'referral_follow_ups',
  'sent_emails',
  'person_merges',
  'persons',
];

async function totals(tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [{ n }] = await testKnex()(t).count<{ n: string }[]>('* as n');
    out[t] = Number(n);
  }
  return out;
}

async function rowsOf(tables: string[], personId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [{ n }] = await testKnex()(t)
      .where({ person_id: personId })
      .count<{ n: string }[]>('* as n');
    out[t] = Number(n);
  }
  return out;
}

/**
 * POST /api/persons/:id/merge: a manager merges two files of one person. Every row moves to
 * the kept file (counted before and after, in every table), a stale version changes nothing,
 * the merged id answers 404, and the structure and role rules hold.
 */
describe('merging two files of one person', () => {
  const clock = fixedClock('2026-12-03T10:00:00Z');
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  let outsiderManager: Agent;
  let food: Awaited<ReturnType<typeof createFoodBank>>;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    food = await createFoodBank();
    [worker, manager, outsiderManager] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, other.manager.email),
    ]);
  });
  afterAll(async () => ctx.close());

  /** A file with a contact planning a follow-up, a right, a consent and a referral. */
  async function fullFile(body: Record<string, unknown>, right: Record<string, unknown>) {
    const p = await createPerson(worker, body);
    await worker
      .post(`/api/persons/${p.id}/contacts`)
      .send({
        occurredAt: '2026-12-01T10:00:00+01:00',
        channel: 'street',
        outcome: 'reached',
        summary: 'Rencontré sur le quai',
        privateNote: 'Note personnelle',
        nextFollowUpAt: '2026-12-10T10:00:00+01:00',
      })
      .expect(201);
    await worker
      .put(`/api/persons/${p.id}/rights/${right.code}`)
      .send({ status: right.status, ...(right.reason ? { reason: right.reason } : {}) })
      .expect(200);
    return p.id;
  }

  const current = async (id: string) => (await manager.get(`/api/persons/${id}`)).body;

  describe('a merge that goes through', () => {
    let mergedId: string;
    let keptId: string;
    let before: {
      totals: Record<string, number>;
      merged: Record<string, number>;
      kept: Record<string, number>;
    };
    let tables: string[];
    let res: { status: number; body: Record<string, unknown> };
    let personDeadline: string;
    let referralId: string;
    let mergedFollowUp: string;

    beforeAll(async () => {
      tables = await personTables();
      // The kept file: a name, an RSA claim changed first.
      keptId = await fullFile(
        { alias: null, firstName: 'Hélène', lastName: 'Lefèvre', situation: 'Vue en novembre.' },
        { code: 'rsa', status: 'claim_in_progress' },
      );
      clock.advance(60_000);
      // The merged file: an alias, a phone and a place the kept one lacks, the same RSA set
      // later (its row wins), the ASPA the kept file does not track, a referral.
      mergedId = await fullFile(
        {
          alias: 'Mme Lefebre',
          phone: '06 12 34 56 78',
          place: 'quai de Ligny',
          birthYear: 1962,
          situation: 'Signalée par un voisin.',
        },
        { code: 'rsa', status: 'obtained' },
      );
      await worker
        .put(`/api/persons/${mergedId}/rights/aspa`)
        .send({ status: 'not_claimed', reason: 'non_knowledge' })
        .expect(200);
      [{ id: mergedFollowUp }] = await testKnex()('follow_ups').where({ person_id: mergedId });
      await giveConsent(worker, mergedId, food.partner.id);
      const referral = await refer(worker, mergedId, food.partner.id);
      expect(referral.status).toBe(201);
      referralId = referral.body.id;
      // A notification leading to the merged file, and a deadline about the person itself.
      await testKnex()('notifications').insert({
        structure_id: team.structure.id,
        recipient_id: team.worker.id,
        kind: 'test.person_note',
        subject_type: 'person',
        subject_id: mergedId,
        due_moment: clock.now(),
        title: 'À propos de cette personne',
        link: `/personnes/${mergedId}`,
      });
      [{ id: personDeadline }] = await testKnex()('deadlines')
        .insert({
          structure_id: team.structure.id,
          kind: 'test.person_check',
          subject_type: 'person',
          subject_id: mergedId,
          due_at: new Date('2026-12-20T09:00:00Z'),
        })
        .returning('id');

      before = {
        totals: await totals([...tables, ...SUBJECT_TABLES]),
        merged: await rowsOf(tables, mergedId),
        kept: await rowsOf(tables, keptId),
      };
      const [m, k] = [await current(mergedId), await current(keptId)];
      res = await manager
        .post(`/api/persons/${mergedId}/merge`)
        .send({ intoId: keptId, version: m.version, intoVersion: k.version });
    });

    it('then 200 with the kept file, completed with what it lacked and at a new version', async () => {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: keptId,
        firstName: 'Hélène',
        lastName: 'Lefèvre',
        alias: 'Mme Lefebre',
        phone: '06 12 34 56 78',
        place: 'quai de Ligny',
        birthYear: 1962,
        situation: 'Vue en novembre.\n\nSignalée par un voisin.',
        // A referral is open: the merged path is supported.
        status: 'supported',
      });
    });

    it('then every table of person data holds as many rows as before, all on the kept file, save the one right both tracked', async () => {
      expect(tables).toEqual(
        expect.arrayContaining([
          'contacts',
          'follow_ups',
          'consents',
          'referrals',
          'person_rights',
          'person_right_events',
        ]),
      );
      const after = await totals([...tables, ...SUBJECT_TABLES]);
      const merged = await rowsOf(tables, mergedId);
      const kept = await rowsOf(tables, keptId);
      for (const t of tables) {
        expect({ table: t, left: merged[t] }).toEqual({ table: t, left: 0 });
        const conflict = t === 'person_rights' ? 1 : 0;
        expect({ table: t, rows: kept[t] }).toEqual({
          table: t,
          rows: before.kept[t] + before.merged[t] - conflict,
        });
        expect({ table: t, total: after[t] }).toEqual({
          table: t,
          total: before.totals[t] - conflict,
        });
      }
      // Rows hanging on a referral or a follow-up kept their ids: nothing gained, nothing lost.
      for (const t of [
        'notifications',
        'referral_events',
        'referral_links',
        'referral_follow_ups',
        'sent_emails',
      ])
        expect({ table: t, total: after[t] }).toEqual({ table: t, total: before.totals[t] });
      expect(after.persons).toBe(before.totals.persons - 1);
      expect(after.person_merges).toBe(before.totals.person_merges + 1);
      // The person's own deadline planned again: one more row (the old one cancelled); the
      // kept file's two no-contact rules written anew: two more (the old ones cancelled).
      expect(after.deadlines).toBe(before.totals.deadlines + 3);
      // Audit events are append-only: more of them, none gone.
      expect(after.audit_events).toBeGreaterThan(before.totals.audit_events);
    });

    it('then the right both tracked keeps the row changed last, above both versions, and the history of both', async () => {
      const rights = (await manager.get(`/api/persons/${keptId}/rights`)).body.items as {
        code: string;
        status: string;
        version: number;
        history: { status: string }[];
      }[];
      const rsa = rights.find((r) => r.code === 'rsa')!;
      expect(rsa.status).toBe('obtained');
      expect(rsa.version).toBeGreaterThan(1);
      expect(rsa.history.map((h) => h.status).sort()).toEqual(['claim_in_progress', 'obtained']);
      expect(rights.find((r) => r.code === 'aspa')).toMatchObject({
        status: 'not_claimed',
        reason: 'non_knowledge',
      });
    });

    it('then the merged id answers 404 everywhere, and merging it again is a 404', async () => {
      expect((await manager.get(`/api/persons/${mergedId}`)).status).toBe(404);
      expect((await manager.get(`/api/persons/${mergedId}/timeline`)).status).toBe(404);
      expect((await manager.get(`/api/persons/${mergedId}/rights`)).status).toBe(404);
      expect(
        (await worker.patch(`/api/persons/${mergedId}`).send({ alias: 'X', version: 1 })).status,
      ).toBe(404);
      expect(
        (
          await worker.post(`/api/persons/${mergedId}/contacts`).send({
            occurredAt: '2026-12-02T10:00:00+01:00',
            channel: 'phone',
            outcome: 'reached',
          })
        ).status,
      ).toBe(404);
      const k = await current(keptId);
      const again = await manager
        .post(`/api/persons/${mergedId}/merge`)
        .send({ intoId: keptId, version: 1, intoVersion: k.version });
      expect(again.status).toBe(404);
    });

    it('then the timeline of the kept file shows both files’ contacts, and the referral names the kept file', async () => {
      const timeline = (await manager.get(`/api/persons/${keptId}/timeline`)).body;
      expect(timeline.items.filter((e: { type: string }) => e.type === 'contact')).toHaveLength(2);
      const referral = (await worker.get(`/api/referrals/${referralId}`)).body;
      expect(referral.personId).toBe(keptId);
    });

    it('then the merge is recorded and audited on both ids, the merged one leading to the kept one', async () => {
      const merge = await testKnex()('person_merges').where({ merged_person_id: mergedId }).first();
      expect(merge).toMatchObject({
        structure_id: team.structure.id,
        kept_person_id: keptId,
        merged_by: team.manager.id,
      });
      expect(merge.moved).toMatchObject({
        contacts: 1,
        followUps: 1,
        consents: 1,
        referrals: 1,
        rights: 1,
        rightConflicts: 1,
      });
      const kept = await testKnex()('audit_events')
        .where({ action: 'person.merge', subject_id: keptId })
        .first();
      expect(kept).toMatchObject({ actor_id: team.manager.id, actor_role: 'manager' });
      expect(kept.details).toMatchObject({
        mergedId,
        filled: expect.arrayContaining(['alias', 'phone', 'place', 'birthYear', 'situation']),
      });
      const merged = await testKnex()('audit_events')
        .where({ action: 'person.merged', subject_id: mergedId })
        .first();
      expect(merged.details).toEqual({ intoId: keptId });
      // The merged file's earlier events keep their id and are found through the merge.
      expect(
        await ctx.deps.services.personMerges.historyIds(
          {
            id: team.manager.id,
            structureId: team.structure.id,
            role: 'manager',
            partnerId: null,
            name: '',
            email: '',
          },
          keptId,
        ),
      ).toEqual([keptId, mergedId]);
      expect(
        await testKnex()('audit_events').where({ action: 'person.create', subject_id: mergedId }),
      ).toHaveLength(1);
    });

    it('then the deadline about the person is planned again for the kept file and queued after commit; the follow-up’s reminder leads to the kept file', async () => {
      const old = await testKnex()('deadlines').where({ id: personDeadline }).first();
      expect(old.status).toBe('cancelled');
      const fresh = await testKnex()('deadlines')
        .where({ kind: 'test.person_check', subject_id: keptId, status: 'pending' })
        .first();
      expect(fresh.due_at).toEqual(new Date('2026-12-20T09:00:00Z'));
      expect(fresh.enqueued_at).not.toBeNull();
      expect(await ctx.deps.queue.getJob(deadlineJobId(fresh.id))).toBeDefined();
      expect(await ctx.deps.queue.getJob(deadlineJobId(personDeadline))).toBeUndefined();

      // The merged file's follow-up (planned by its contact) is still due, and now reminds of
      // the kept file.
      const followUp = await testKnex()('follow_ups').where({ id: mergedFollowUp }).first();
      expect(followUp.person_id).toBe(keptId);
      const deadline = await testKnex()('deadlines')
        .where({ subject_id: followUp.id, kind: FOLLOW_UP_DUE, status: 'pending' })
        .first();
      expect(deadline).toBeDefined();
      clock.set(deadline.due_at);
      expect(await processDeadline(ctx.deps, processors, FOLLOW_UP_DUE, deadline.id)).toBe('done');
      const notification = await testKnex()('notifications')
        .where({ subject_id: followUp.id, kind: FOLLOW_UP_DUE })
        .first();
      expect(notification.link).toBe(`/personnes/${keptId}`);
      // The notification that led to the merged file leads to the kept one.
      const moved = await testKnex()('notifications').where({ kind: 'test.person_note' }).first();
      expect(moved).toMatchObject({ link: `/personnes/${keptId}`, subject_id: keptId });
    });

    it('when the kept file is merged in turn into a third, then the first merge leads to the third', async () => {
      const third = (await createPerson(worker, { alias: 'Hélène L., quai Ligny' })).id;
      const [k, t] = [await current(keptId), await current(third)];
      const r = await manager
        .post(`/api/persons/${keptId}/merge`)
        .send({ intoId: third, version: k.version, intoVersion: t.version });
      expect(r.status).toBe(200);
      const rows = await testKnex()('person_merges')
        .whereIn('merged_person_id', [mergedId, keptId])
        .orderBy('merged_at');
      expect(rows.map((m) => m.kept_person_id)).toEqual([third, third]);
      expect((await current(third)).firstName).toBe('Hélène');
    });
  });

  it('when one of the two versions is stale, then 409 stale_version with both files as they stand, nothing moved, and both reads audited', async () => {
    const a = await fullFile(
      { alias: 'Monsieur Périer' },
      { code: 'css', status: 'claim_in_progress' },
    );
    const b = (await createPerson(worker, { alias: 'M. Perrier' })).id;
    const [va, vb] = [(await current(a)).version, (await current(b)).version];
    await worker.patch(`/api/persons/${b}`).send({ place: 'gare', version: vb }).expect(200);
    const tables = await personTables();
    const beforeA = await rowsOf(tables, a);
    const res = await manager
      .post(`/api/persons/${a}/merge`)
      .send({ intoId: b, version: va, intoVersion: vb });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('stale_version');
    expect(res.body.error.details.current.person).toMatchObject({ id: a, version: va });
    expect(res.body.error.details.current.into).toMatchObject({
      id: b,
      version: vb + 1,
      place: 'gare',
    });
    expect(await rowsOf(tables, a)).toEqual(beforeA);
    expect((await current(a)).version).toBe(va);
    const reads = await testKnex()('audit_events')
      .where({ action: 'person.read', actor_id: team.manager.id })
      .whereIn('subject_id', [a, b])
      .whereRaw("details->>'reason' = 'conflict'");
    expect(reads.map((r) => r.subject_id).sort()).toEqual([a, b].sort());
    // With both versions current, it goes through.
    const ok = await manager
      .post(`/api/persons/${a}/merge`)
      .send({ intoId: b, version: va, intoVersion: vb + 1 });
    expect(ok.status).toBe(200);
  });

  it('when a worker asks, then 403 and nothing moves', async () => {
    const a = (await createPerson(worker, { alias: 'Doublon A' })).id;
    const b = (await createPerson(worker, { alias: 'Doublon B' })).id;
    const res = await worker
      .post(`/api/persons/${a}/merge`)
      .send({ intoId: b, version: 1, intoVersion: 1 });
    expect(res.status).toBe(403);
    expect((await current(a)).id).toBe(a);
  });

  it('when either file is another structure’s, then 404 and nothing moves', async () => {
    const mine = (await createPerson(worker, { alias: 'Ici' })).id;
    const outsider = await loginAs(ctx.app, other.worker.email);
    const theirs = (await createPerson(outsider, { alias: 'Là-bas' })).id;
    const one = await manager
      .post(`/api/persons/${mine}/merge`)
      .send({ intoId: theirs, version: 1, intoVersion: 1 });
    expect(one.status).toBe(404);
    const two = await manager
      .post(`/api/persons/${theirs}/merge`)
      .send({ intoId: mine, version: 1, intoVersion: 1 });
    expect(two.status).toBe(404);
    const three = await outsiderManager
      .post(`/api/persons/${mine}/merge`)
      .send({ intoId: theirs, version: 1, intoVersion: 1 });
    expect(three.status).toBe(404);
    expect((await current(mine)).version).toBe(1);
    expect((await outsiderManager.get(`/api/persons/${theirs}`)).body.version).toBe(1);
  });

  it('when a file is merged into itself, or the body is incomplete, then 400 naming the field', async () => {
    const a = (await createPerson(worker, { alias: 'Seul' })).id;
    const self = await manager
      .post(`/api/persons/${a}/merge`)
      .send({ intoId: a, version: 1, intoVersion: 1 });
    expect(self.status).toBe(400);
    expect(self.body.error.details).toEqual([expect.objectContaining({ field: 'intoId' })]);
    for (const [body, field] of [
      [{ version: 1, intoVersion: 1 }, 'intoId'],
      [{ intoId: a, intoVersion: 1 }, 'version'],
      [{ intoId: 'pas-un-id', version: 1, intoVersion: 1 }, 'intoId'],
      [{ intoId: a, version: 1, intoVersion: 1, keep: 'both' }, 'keep'],
    ] as const) {
      const res = await manager.post(`/api/persons/${a}/merge`).send(body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.error.details)).toContain(field);
    }
  });

  it('when two managers merge one pair in opposite directions at once, then one merge wins and the other is a 404', async () => {
    const a = (await createPerson(worker, { alias: 'Paire A' })).id;
    const b = (await createPerson(worker, { alias: 'Paire B' })).id;
    const manager2 = await loginAs(ctx.app, (await createUser(team.structure.id, 'manager')).email);
    const results = await Promise.all([
      manager.post(`/api/persons/${a}/merge`).send({ intoId: b, version: 1, intoVersion: 1 }),
      manager2.post(`/api/persons/${b}/merge`).send({ intoId: a, version: 1, intoVersion: 1 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 404]);
    const left = await testKnex()('persons').whereIn('id', [a, b]);
    expect(left).toHaveLength(1);
    expect(await testKnex()('person_merges').whereIn('merged_person_id', [a, b])).toHaveLength(1);
  });

  it('when a table of person data the merge does not know holds a row of the merged file, then the merge stops and nothing moves', async () => {
    await testKnex().raw(
      'CREATE TABLE merge_probe (id serial PRIMARY KEY, person_id uuid NOT NULL REFERENCES persons(id) ON DELETE CASCADE)',
    );
    try {
      const a = await fullFile({ alias: 'Sonde A' }, { code: 'apl', status: 'claim_in_progress' });
      const b = (await createPerson(worker, { alias: 'Sonde B' })).id;
      await testKnex()('merge_probe').insert({ person_id: a });
      const res = await manager
        .post(`/api/persons/${a}/merge`)
        .send({ intoId: b, version: (await current(a)).version, intoVersion: 1 });
      expect(res.status).toBe(500);
      expect(await testKnex()('merge_probe').where({ person_id: a })).toHaveLength(1);
      expect(await testKnex()('contacts').where({ person_id: a })).toHaveLength(1);
      expect((await current(b)).version).toBe(1);
    } finally {
      await testKnex().raw('DROP TABLE merge_probe');
    }
  });

  it('when an open file is merged into a closed one, then the kept file is reopened, the audit says so, and its no-contact reminder acts', async () => {
    const open = (await createPerson(worker, { alias: 'Toujours suivi' })).id;
    const closed = (await createPerson(worker, { alias: 'Toujours suivi, ancien dossier' })).id;
    await worker
      .patch(`/api/persons/${closed}`)
      .send({ closedReason: 'moved', version: 1 })
      .expect(200);
    const res = await manager
      .post(`/api/persons/${open}/merge`)
      .send({ intoId: closed, version: 1, intoVersion: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ closedReason: null, closedAt: null });
    expect(res.body.status).not.toBe('closed');
    const audit = await testKnex()('audit_events')
      .where({ action: 'person.merge', subject_id: closed })
      .first();
    expect(audit.details).toMatchObject({ mergedId: open, reopened: true });
    const reminder = await testKnex()('deadlines')
      .where({ kind: PERSON_NO_CONTACT, subject_id: closed, status: 'pending' })
      .first();
    const before = clock.now();
    clock.set(reminder.due_at);
    try {
      expect(await processDeadline(ctx.deps, processors, PERSON_NO_CONTACT, reminder.id)).toBe(
        'done',
      );
    } finally {
      clock.set(before);
    }
  });

  it('when both files are closed, then the kept file stays closed', async () => {
    const [a, b] = [
      (await createPerson(worker, { alias: 'Parti A' })).id,
      (await createPerson(worker, { alias: 'Parti B' })).id,
    ];
    for (const id of [a, b])
      await worker
        .patch(`/api/persons/${id}`)
        .send({ closedReason: 'moved', version: 1 })
        .expect(200);
    const res = await manager
      .post(`/api/persons/${a}/merge`)
      .send({ intoId: b, version: 2, intoVersion: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ closedReason: 'moved', status: 'closed' });
  });

  it('when either file was anonymised, then 409 anonymised and nothing moves', async () => {
    const a = (await createPerson(worker, { alias: 'Ancien dossier' })).id;
    const b = (await createPerson(worker, { alias: 'Dossier récent' })).id;
    await testKnex()('persons').where({ id: a }).update({ anonymised_at: clock.now() });
    const res = await manager
      .post(`/api/persons/${a}/merge`)
      .send({ intoId: b, version: 1, intoVersion: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('anonymised');
    expect(await testKnex()('persons').where({ id: a }).first()).toBeDefined();
  });

  it('when both files hold the same suggestion to close for one recipient and moment, then the merged file’s copy goes and none keeps its id', async () => {
    const merged = (await createPerson(worker, { alias: 'Homme au vélo' })).id;
    const kept = (await createPerson(worker, { alias: 'Homme au vélo, gare' })).id;
    const moment = new Date('2026-11-30T09:00:00Z');
    const notice = (personId: string) => ({
      structure_id: team.structure.id,
      recipient_id: team.worker.id,
      kind: NOTIFY_SUGGEST_CLOSE,
      subject_type: 'person',
      subject_id: personId,
      due_moment: moment,
      title: 'Aucun contact depuis 90 jours : clore le dossier ?',
      link: `/personnes/${personId}`,
    });
    const [keptNotice] = await testKnex()('notifications')
      .insert([notice(kept), notice(merged)])
      .returning('id');
    const [m, k] = [await current(merged), await current(kept)];
    const res = await manager
      .post(`/api/persons/${merged}/merge`)
      .send({ intoId: kept, version: m.version, intoVersion: k.version });
    expect(res.status).toBe(200);

    expect(await testKnex()('notifications').where({ subject_id: merged })).toEqual([]);
    expect(
      await testKnex()('notifications')
        .where({ recipient_id: team.worker.id, kind: NOTIFY_SUGGEST_CLOSE, subject_id: kept })
        .pluck('id'),
    ).toEqual([keptNotice.id]);
  });
});
