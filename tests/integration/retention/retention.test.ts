import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { PERSON_STATUS_SQL } from '../../../server/features/persons/person-status';
import { REFERRAL_EMAIL_WITHDRAWN } from '../../../server/features/referrals/referral-schemas';
import { RETENTION_NIGHTLY } from '../../../server/features/retention/retention-kinds';
import { createRetentionRepository } from '../../../server/features/retention/retention-repository';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createDistrict, createTeam, createUser } from '../../setup/factories';
import { paris } from '../deadlines/time-machine';
import { createFoodBank, createPerson, giveConsent, refer, type Agent } from '../referrals/helpers';

/** Saturday 19 December 2026, 23:30 in Paris: a run on a Saturday night. */
const NOW = paris('2026-12-19T23:30:00');
/** 25 months before: past the default 24 months of retention. */
const LONG_AGO = paris('2024-11-10T10:00:00');
const SECRET = 'Hébergée chez sa sœur, dettes de loyer';

/** The numbers statistics are made of, by SQL: they must be the same after anonymisation. */
async function aggregates(structureId: string) {
  const k = testKnex();
  const rows = async (sql: string) =>
    (await k.raw(sql, { s: structureId })).rows as Record<string, unknown>[];
  return {
    byStatus: await rows(
      `SELECT ${PERSON_STATUS_SQL} AS status, count(*)::int AS n FROM persons p
        WHERE p.structure_id = :s GROUP BY 1 ORDER BY 1`,
    ),
    byDistrict: await rows(
      `SELECT district_id, count(*)::int AS n FROM persons WHERE structure_id = :s GROUP BY 1 ORDER BY 1`,
    ),
    bySource: await rows(
      `SELECT source, count(*)::int AS n FROM persons WHERE structure_id = :s GROUP BY 1 ORDER BY 1`,
    ),
    byBirthYear: await rows(
      `SELECT birth_year, count(*)::int AS n FROM persons WHERE structure_id = :s GROUP BY 1 ORDER BY 1`,
    ),
    byRight: await rows(
      `SELECT r.code, pr.status, pr.reason, count(*)::int AS n, sum(pr.monthly_amount_cents)::int AS cents
         FROM person_rights pr JOIN rights r ON r.id = pr.right_id
        WHERE pr.structure_id = :s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    ),
    rightEvents: await rows(
      `SELECT status, reason, count(*)::int AS n FROM person_right_events WHERE structure_id = :s GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
    contacts: await rows(
      `SELECT channel, outcome, count(*)::int AS n FROM contacts WHERE structure_id = :s GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
    referrals: await rows(
      `SELECT partner_id, status, count(*)::int AS n FROM referrals WHERE structure_id = :s GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
  };
}

describe('retention: files without activity are anonymised, old audit events purged, statistics unchanged', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  let old: string;
  let recent: string;
  let oldFollowUp: string;
  let oldReferral: string;
  let oldReport: string;
  let oldDismissed: string;
  let recentDismissed: string;
  let oldWaiting: string;
  let recentWaiting: string;

  async function fullFile(districtId: string) {
    const food = await createFoodBank();
    const p = await createPerson(worker, {
      alias: 'Dame au chien',
      place: 'parvis de la médiathèque',
      birthYear: 1961,
      districtId,
      situation: SECRET,
    });
    const contact = await worker.post(`/api/persons/${p.id}/contacts`).send({
      occurredAt: '2026-12-01T10:00:00+01:00',
      channel: 'street',
      outcome: 'reached',
      summary: 'Parle de sa sœur à Trélazé',
      privateNote: 'Note privée : inquiète',
    });
    expect(contact.status).toBe(201);
    const fu = await worker
      .post(`/api/persons/${p.id}/follow-ups`)
      .send({ dueAt: '2026-12-28T10:00:00+01:00', title: 'Rappeler Mme Benali' });
    expect(fu.status).toBe(201);
    const right = await worker
      .put(`/api/persons/${p.id}/rights/apl`)
      .send({ status: 'obtained', monthlyAmount: 210, note: 'Dossier déposé par sa fille' });
    expect(right.status).toBe(200);
    const right2 = await worker
      .put(`/api/persons/${p.id}/rights/rsa`)
      .send({ status: 'not_claimed', reason: 'non_knowledge' });
    expect(right2.status).toBe(200);
    await giveConsent(worker, p.id, food.partner.id);
    const ref = await refer(worker, p.id, food.partner.id);
    expect(ref.status).toBe(201);
    await testKnex()('notifications').insert([
      {
        structure_id: team.structure.id,
        recipient_id: team.worker.id,
        kind: 'person.suggest_close',
        subject_type: 'person',
        subject_id: p.id,
        due_moment: NOW,
        title: 'Clore la fiche de Nadia Benali ?',
        body: 'Nadia Benali (Dame au chien)',
      },
      {
        structure_id: team.structure.id,
        recipient_id: team.worker.id,
        kind: 'follow_up.due',
        subject_type: 'follow_up',
        subject_id: fu.body.id,
        due_moment: NOW,
        title: 'Rappeler Mme Benali',
        body: 'Nadia Benali',
      },
    ]);
    // A resident's report, triaged into this file.
    const [report] = await testKnex()('reports')
      .insert({
        structure_id: team.structure.id,
        receipt_number: `R${p.id.slice(0, 7)}`.toUpperCase(),
        channel: 'public',
        location_enc: ctx.deps.cipher.encrypt('Parvis de la médiathèque'),
        who_enc: ctx.deps.cipher.encrypt('Une dame âgée avec un chien'),
        concern_enc: ctx.deps.cipher.encrypt('Elle dort dehors depuis une semaine'),
        reporter_contact_enc: ctx.deps.cipher.encrypt('voisine, 06 98 76 54 32'),
        created_at: NOW,
        triaged_at: NOW,
        triaged_by: team.worker.id,
        triage_action: 'link',
        person_id: p.id,
      })
      .returning('id');
    return {
      id: p.id,
      followUpId: fu.body.id as string,
      referralId: ref.body.id as string,
      reportId: report.id as string,
    };
  }

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    manager = await loginAs(ctx.app, team.manager.email);
    // Two files alike: with a threshold of 2 their counts show in the observation answer.
    const admin = await loginAs(ctx.app, team.admin.email);
    const settings = await admin.get('/api/settings');
    expect(
      (
        await admin
          .patch('/api/settings')
          .send({ smallCountThreshold: 2, version: settings.body.version })
      ).status,
    ).toBe(200);
    const district = await createDistrict(team.structure.id);
    const a = await fullFile(district.id);
    const b = await fullFile(district.id);
    old = a.id;
    oldFollowUp = a.followUpId;
    oldReferral = a.referralId;
    oldReport = a.reportId;
    recent = b.id;
    await testKnex()('persons').where({ id: old }).update({ last_activity_at: LONG_AGO });
    // Two dismissed reports: one dismissed 25 months ago (its text goes), one last month.
    const dismissed = (at: Date, n: string) => ({
      structure_id: team.structure.id,
      receipt_number: `DISMISS${n}`,
      channel: 'public',
      location_enc: ctx.deps.cipher.encrypt('Quai Ligny'),
      who_enc: ctx.deps.cipher.encrypt('Un homme âgé'),
      concern_enc: ctx.deps.cipher.encrypt('Il a l’air perdu'),
      reporter_contact_enc: ctx.deps.cipher.encrypt('06 11 22 33 44'),
      created_at: at,
      triaged_at: at,
      triaged_by: team.worker.id,
      triage_action: 'dismiss',
      triage_reason_enc: ctx.deps.cipher.encrypt('Déjà suivi par le 115'),
    });
    [oldDismissed, recentDismissed] = (
      await testKnex()('reports')
        .insert([dismissed(LONG_AGO, '1'), dismissed(paris('2026-11-10T10:00:00'), '2')])
        .returning('id')
    ).map((r: { id: string }) => r.id);
    // Two reports never triaged: one received 25 months ago (its text goes), one last month.
    const waiting = (at: Date, n: string) => ({
      structure_id: team.structure.id,
      receipt_number: `WAITING${n}`,
      channel: 'public',
      location_enc: ctx.deps.cipher.encrypt('Rue Lionnaise'),
      who_enc: ctx.deps.cipher.encrypt('Une femme et deux enfants'),
      concern_enc: ctx.deps.cipher.encrypt('Ils dorment dans une voiture'),
      reporter_contact_enc: ctx.deps.cipher.encrypt('06 55 44 33 22'),
      created_at: at,
    });
    [oldWaiting, recentWaiting] = (
      await testKnex()('reports')
        .insert([waiting(LONG_AGO, '1'), waiting(paris('2026-11-10T10:00:00'), '2')])
        .returning('id')
    ).map((r: { id: string }) => r.id);
    // Audit events: one older than both cutoffs (12 months before the fixed clock, and before the
    // database's own clock, which the purge also requires, whatever the day the test runs), one
    // two months before the later of the two clocks (recent by both, also once the real date has
    // passed the fixed one: the purge with a future cutoff below keeps it whatever the year).
    await testKnex().raw(
      `INSERT INTO audit_events (structure_id, action, subject_type, subject_id, created_at)
       VALUES (?, 'person.read', 'person', ?, least(?::timestamptz, now()) - interval '13 months'),
              (?, 'person.read', 'person', ?, greatest(?::timestamptz, now()) - interval '2 months')`,
      [team.structure.id, old, NOW, team.structure.id, recent, NOW],
    );
  });
  afterAll(async () => ctx.close());

  const persons = () => testKnex()('persons').orderBy('id');
  /** GET /api/observation over the whole history, whole and by each grouping. */
  const observed = async () => {
    const answers = [];
    for (const by of ['', '&by=district', '&by=right', '&by=source', '&by=team']) {
      const res = await manager.get(`/api/observation?from=2024-01-01&to=2026-12-19${by}`);
      expect(res.status).toBe(200);
      answers.push(res.body);
    }
    return answers;
  };
  const auditCount = async () =>
    Number((await testKnex()('audit_events').count({ n: '*' }).first())?.n);

  it('when run dry, then it lists the file due with what would change and changes nothing', async () => {
    const before = { persons: await persons(), audit: await auditCount() };
    const progress: number[] = [];
    const report = await ctx.deps.services.retention.runStructure(team.structure.id, {
      dryRun: true,
      onProgress: (done) => progress.push(done),
    });
    expect(report).toMatchObject({
      dryRun: true,
      retentionMonths: 24,
      cutoff: paris('2024-12-19T23:30:00'),
      auditEventsPurged: 1,
    });
    expect(report.persons).toEqual([
      {
        id: old,
        counts: {
          contacts: 1,
          followUps: 1,
          rightNotes: 2,
          referrals: 1,
          openReferrals: 1,
          referralEvents: 1,
          reports: 1,
          notifications: 2,
        },
      },
    ]);
    expect(report.dismissedReports).toEqual([oldDismissed]);
    expect(report.waitingReports).toEqual([oldWaiting]);
    expect(progress).toEqual([1]);
    expect(await testKnex()('reports').where({ id: oldWaiting }).first()).toMatchObject({
      triaged_at: null,
      anonymised_at: null,
    });
    expect(await persons()).toEqual(before.persons);
    expect(await auditCount()).toBe(before.audit);
  });

  it('when run, then the file loses its identity and free text everywhere, keeps what statistics need, and the numbers are the same but for its open referral, cancelled', async () => {
    const before = await aggregates(team.structure.id);
    const observedBefore = await observed();
    expect(observedBefore[0].totals).toMatchObject({ identified: 2, reached: 2, obtained: 2 });
    const recentBefore = await testKnex()('persons').where({ id: recent }).first();
    const report = await ctx.deps.services.retention.runStructure(team.structure.id);
    expect(report.persons.map((p) => p.id)).toEqual([old]);
    expect(report.dismissedReports).toEqual([oldDismissed]);
    expect(report.auditEventsPurged).toBe(1);
    // The report dismissed 25 months ago keeps its receipt and dates, not what it said.
    const gone = await testKnex()('reports').where({ id: oldDismissed }).first();
    expect(gone).toMatchObject({ who_enc: null, reporter_contact_enc: null, anonymised_at: NOW });
    for (const col of ['location_enc', 'concern_enc', 'triage_reason_enc'])
      expect(ctx.deps.cipher.decrypt(gone[col])).toBe('');
    const kept = await testKnex()('reports').where({ id: recentDismissed }).first();
    expect(ctx.deps.cipher.decrypt(kept.concern_enc)).toBe('Il a l’air perdu');
    // The report never triaged for 25 months is dismissed by the system and loses its text; the
    // one received last month still waits, whole.
    expect(report.waitingReports).toEqual([oldWaiting]);
    const expired = await testKnex()('reports').where({ id: oldWaiting }).first();
    expect(expired).toMatchObject({
      triaged_at: NOW,
      triaged_by: null,
      triage_action: 'dismiss',
      person_id: null,
      who_enc: null,
      reporter_contact_enc: null,
      anonymised_at: NOW,
    });
    for (const col of ['location_enc', 'concern_enc', 'triage_reason_enc'])
      expect(ctx.deps.cipher.decrypt(expired[col])).toBe('');
    const waits = await testKnex()('reports').where({ id: recentWaiting }).first();
    expect(waits).toMatchObject({ triaged_at: null, anonymised_at: null });
    expect(ctx.deps.cipher.decrypt(waits.concern_enc)).toBe('Ils dorment dans une voiture');
    expect(
      await testKnex()('audit_events').where({
        action: 'report.anonymise',
        subject_id: oldWaiting,
      }),
    ).toEqual([
      expect.objectContaining({
        actor_id: null,
        details: { reason: 'retention', retentionMonths: 24, dismissed: 'never_triaged' },
      }),
    ]);
    expect(
      await testKnex()('audit_events').where({
        action: 'report.anonymise',
        subject_id: oldDismissed,
      }),
    ).toHaveLength(1);

    const p = await testKnex()('persons').where({ id: old }).first();
    expect(p).toMatchObject({
      alias: 'Personne anonymisée',
      first_name: null,
      last_name: null,
      phone: null,
      email: null,
      address: null,
      place: null,
      situation_enc: null,
      birth_year: 1961,
      source: 'outreach',
      pause_reminders: true,
      anonymised_at: NOW,
    });
    expect(p.district_id).not.toBeNull();
    const contacts = await testKnex()('contacts').where({ person_id: old });
    expect(contacts).toEqual([
      expect.objectContaining({
        channel: 'street',
        outcome: 'reached',
        summary_enc: null,
        private_note_enc: null,
      }),
    ]);
    const fu = await testKnex()('follow_ups').where({ id: oldFollowUp }).first();
    expect(fu).toMatchObject({ title: 'Suivi (fiche anonymisée)', status: 'cancelled' });
    for (const t of ['person_rights', 'person_right_events'])
      expect(
        (await testKnex()(t).where({ person_id: old })).every((r) => r.note_enc === null),
      ).toBe(true);
    const ref = await testKnex()('referrals').where({ id: oldReferral }).first();
    expect(ctx.deps.cipher.decrypt(ref.reason_enc)).toBe('');
    expect(ref.shared_summary_enc).toBeNull();
    // Still open, it is cancelled by the system: no partner moves it or writes on it any more.
    expect(ref).toMatchObject({
      status: 'cancelled',
      status_reason_code: 'person_anonymised',
      closed_at: NOW,
    });
    expect(
      await testKnex()('referral_events')
        .where({ referral_id: oldReferral, to_status: 'cancelled' })
        .select('from_status', 'actor_kind', 'actor_id', 'reason_code', 'note_enc'),
    ).toEqual([
      {
        from_status: 'requested',
        actor_kind: 'system',
        actor_id: null,
        reason_code: 'person_anonymised',
        note_enc: null,
      },
    ]);
    expect(
      await testKnex()('audit_events').where({
        action: 'referral.transition',
        subject_id: oldReferral,
      }),
    ).toEqual([
      expect.objectContaining({
        actor_id: null,
        details: {
          from: 'requested',
          to: 'cancelled',
          by: 'system',
          reasonCode: 'person_anonymised',
        },
      }),
    ]);
    // The report triaged into the file keeps its receipt, dates and action, not what it said.
    const signal = await testKnex()('reports').where({ id: oldReport }).first();
    expect(signal).toMatchObject({
      anonymised_at: NOW,
      who_enc: null,
      reporter_contact_enc: null,
      triage_action: 'link',
      person_id: old,
    });
    expect(ctx.deps.cipher.decrypt(signal.location_enc)).toBe('');
    expect(ctx.deps.cipher.decrypt(signal.concern_enc)).toBe('');
    const notes = await testKnex()('notifications').whereIn('subject_id', [old, oldFollowUp]);
    expect(notes.map((n) => [n.title, n.body])).toEqual([
      ['Notification sur une fiche anonymisée', null],
      ['Notification sur une fiche anonymisée', null],
    ]);
    // Its pending deadlines (follow-up due, no-contact rules, partner email…) are cancelled; the
    // only one left tells the partner its referral was withdrawn (nothing about the person).
    const pending = await testKnex()('deadlines')
      .whereIn('subject_id', [old, oldFollowUp, oldReferral])
      .where({ status: 'pending' });
    expect(pending.map((d) => [d.kind, d.subject_id])).toEqual([
      [REFERRAL_EMAIL_WITHDRAWN, oldReferral],
    ]);
    // One audit event for the file, by the system.
    const events = await testKnex()('audit_events').where({
      action: 'person.anonymise',
      subject_id: old,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor_id: null,
      details: expect.objectContaining({ reason: 'retention' }),
    });
    // The old audit event is gone, the recent one kept; the purge itself is audited.
    const reads = await testKnex()('audit_events')
      .where({ action: 'person.read' })
      .whereNull('actor_id');
    expect(reads.map((r) => r.subject_id)).toEqual([recent]);
    expect(await testKnex()('audit_events').where({ action: 'audit.purge' })).toHaveLength(1);

    // The other file is untouched; every number statistics are made of is the same, but for
    // the open referral now cancelled: the file was supported through it, and is in contact.
    expect(await testKnex()('persons').where({ id: recent }).first()).toEqual(recentBefore);
    const after = await aggregates(team.structure.id);
    expect(before.byStatus).toEqual([{ status: 'supported', n: 2 }]);
    expect(after.byStatus).toEqual([
      { status: 'in_contact', n: 1 },
      { status: 'supported', n: 1 },
    ]);
    expect(after.referrals).toEqual(
      before.referrals.map((r) =>
        r.partner_id === ref.partner_id ? { ...r, status: 'cancelled' } : r,
      ),
    );
    expect({ ...after, byStatus: [], referrals: [] }).toEqual({
      ...before,
      byStatus: [],
      referrals: [],
    });
    // And the observation API answers the same, whole and by each grouping.
    expect(await observed()).toEqual(observedBefore);
  });

  it('when run again, then nothing changes and nothing more is audited', async () => {
    const before = { persons: await persons(), audit: await auditCount() };
    const report = await ctx.deps.services.retention.runStructure(team.structure.id);
    expect(report.persons).toEqual([]);
    expect(report.dismissedReports).toEqual([]);
    expect(report.waitingReports).toEqual([]);
    expect(report.auditEventsPurged).toBe(0);
    expect(await persons()).toEqual(before.persons);
    expect(await auditCount()).toBe(before.audit);
  });

  it('when staff open the anonymised file, then it reads as anonymised and refuses changes with 409 anonymised', async () => {
    const read = await manager.get(`/api/persons/${old}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ alias: 'Personne anonymisée', firstName: null, phone: null });
    expect(read.body.anonymisedAt).toBe(NOW.toISOString());
    const patch = await worker
      .patch(`/api/persons/${old}`)
      .send({ firstName: 'Nadia', version: read.body.version });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe('anonymised');
  });

  it('when a file had activity after the cutoff, then it is left alone even if listed before', async () => {
    // A contact logged between the listing and the change: the lock re-checks the activity.
    const trx = await testKnex().transaction();
    try {
      const repo = createRetentionRepository(ctx.deps.cipher);
      expect(
        await repo.lockIfDue(trx, team.structure.id, recent, paris('2024-12-19T23:30:00')),
      ).toBe(false);
    } finally {
      await trx.rollback();
    }
  });

  describe('the audit trail stays append-only', () => {
    it('when anything but the purge deletes an old audit event, then the database refuses', async () => {
      await testKnex().raw(
        `INSERT INTO audit_events (structure_id, action, subject_type, created_at)
         VALUES (?, 'person.read', 'person', now() - interval '14 months')`,
        [team.structure.id],
      );
      await expect(
        testKnex().raw(`DELETE FROM audit_events WHERE created_at < now() - interval '13 months'`),
      ).rejects.toThrow(/append-only/);
      await expect(testKnex().raw(`UPDATE audit_events SET action = 'x'`)).rejects.toThrow(
        /append-only/,
      );
    });

    it('when the purge is asked for a cutoff in the future, then it still keeps the last 12 months', async () => {
      const before = await auditCount();
      const r = await testKnex().raw('SELECT audit_events_purge(?, NULL) AS n', [
        paris('2030-01-01T00:00:00'),
      ]);
      // Only the 14-month-old event went.
      expect(Number(r.rows[0].n)).toBe(1);
      expect(await auditCount()).toBe(before - 1);
      // The setting it turned on is off again: a plain DELETE is still refused afterwards.
      await expect(
        testKnex().transaction(async (trx) => {
          await trx.raw('SELECT audit_events_purge(?, NULL)', [NOW]);
          await trx.raw(`DELETE FROM audit_events`);
        }),
      ).rejects.toThrow(/append-only/);
    });
  });

  describe('the nightly run', () => {
    it('when the worker plans it, then every structure gets one run at 03:00 Paris time, once', async () => {
      const other = await createTeam();
      expect(await ctx.deps.services.retention.ensurePlanned()).toBe(2);
      expect(await ctx.deps.services.retention.ensurePlanned()).toBe(0);
      const planned = await testKnex()('deadlines')
        .where({ kind: RETENTION_NIGHTLY, status: 'pending' })
        .orderBy('subject_id');
      expect(planned.map((d) => d.subject_id).sort()).toEqual(
        [team.structure.id, other.structure.id].sort(),
      );
      // Sunday 20 December, 03:00 in Paris: nights do not follow the business calendar.
      for (const d of planned) expect(d.due_at).toEqual(paris('2026-12-20T03:00:00'));
    });

    it('when the night comes, then the run anonymises the file that crossed the line and plans the next night', async () => {
      const late = await createPerson(worker, { alias: 'Homme au vélo', situation: SECRET });
      await testKnex()('persons').where({ id: late.id }).update({ last_activity_at: LONG_AGO });
      clock.set(paris('2026-12-20T03:00:00'));
      const d = await testKnex()('deadlines')
        .where({ kind: RETENTION_NIGHTLY, subject_id: team.structure.id, status: 'pending' })
        .first();
      expect(await processDeadline(ctx.deps, processors, RETENTION_NIGHTLY, d.id)).toBe('done');
      const p = await testKnex()('persons').where({ id: late.id }).first();
      expect(p).toMatchObject({ alias: 'Personne anonymisée', situation_enc: null });
      expect(
        await testKnex()('audit_events').where({ action: 'person.anonymise', subject_id: late.id }),
      ).toHaveLength(1);
      const next = await testKnex()('deadlines')
        .where({ kind: RETENTION_NIGHTLY, subject_id: team.structure.id, status: 'pending' })
        .first();
      expect(next.due_at).toEqual(paris('2026-12-21T03:00:00'));
      // Delivered twice: the second delivery is a no-op.
      expect(await processDeadline(ctx.deps, processors, RETENTION_NIGHTLY, d.id)).toBe(
        'not_pending',
      );
    });

    it('when a shorter retention is set, then the run uses the structure setting', async () => {
      const admin = await loginAs(ctx.app, team.admin.email);
      const s = await admin.get('/api/settings');
      expect(
        (await admin.patch('/api/settings').send({ retentionMonths: 6, version: s.body.version }))
          .status,
      ).toBe(200);
      const seven = await createPerson(worker, { alias: 'Jeune homme, gare' });
      await testKnex()('persons')
        .where({ id: seven.id })
        .update({ last_activity_at: paris('2026-05-01T10:00:00') });
      const report = await ctx.deps.services.retention.runStructure(team.structure.id, {
        dryRun: true,
      });
      expect(report.retentionMonths).toBe(6);
      expect(report.persons.map((p) => p.id)).toEqual([seven.id]);
    });
  });

  it('when a file with a referral the partner accepted is anonymised, then the partner’s users are told of the withdrawal in the app and its withdrawal email is planned, without the person', async () => {
    const food = await createFoodBank('Restos du cœur');
    const partnerUser = await createUser(team.structure.id, 'partner', {
      partnerId: food.partner.id,
    });
    const partner = await loginAs(ctx.app, partnerUser.email);
    const p = await createPerson(worker, { alias: 'Monsieur du square', situation: SECRET });
    await giveConsent(worker, p.id, food.partner.id);
    const ref = await refer(worker, p.id, food.partner.id, { serviceId: food.service.id });
    expect(ref.status).toBe(201);
    const id = ref.body.id as string;
    expect(
      (await partner.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' })).status,
    ).toBe(200);
    await testKnex()('persons').where({ id: p.id }).update({ last_activity_at: LONG_AGO });

    const report = await ctx.deps.services.retention.runStructure(team.structure.id);

    expect(report.persons.map((r) => r.id)).toContain(p.id);
    expect(await testKnex()('referrals').where({ id }).first()).toMatchObject({
      status: 'cancelled',
    });
    expect(
      await testKnex()('deadlines').where({
        subject_id: id,
        kind: REFERRAL_EMAIL_WITHDRAWN,
        status: 'pending',
      }),
    ).toHaveLength(1);
    const notices = await testKnex()('notifications').where({
      subject_id: id,
      kind: 'referral.cancelled',
    });
    expect(notices.map((n) => n.recipient_id)).toEqual([partnerUser.id]);
    expect(notices[0].title).toContain('« Colis alimentaires »');
    for (const secret of ['Nadia', 'Benali', 'Monsieur du square', SECRET])
      expect(`${notices[0].title} ${notices[0].body}`).not.toContain(secret);
  });
});
