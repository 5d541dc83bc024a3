import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { binary, pdfTextOf } from '../../setup/pdf';
import { csrfOf } from '../../e2e/html';
import { paris } from '../deadlines/time-machine';
import { createFoodBank, createPerson, giveConsent, refer, type Agent } from '../referrals/helpers';

/** Saturday 19 December 2026, 22:00 in Paris. */
const NOW = paris('2026-12-19T22:00:00');
const NOTE = 'Note privée : craint une expulsion, ne pas en parler à son frère';

describe('right of access and who read this file', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  let admin: Agent;
  let person: string;
  let referral: string;
  let reportId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    await testKnex()('users').where({ id: team.worker.id }).update({ name: 'Léa Martin' });
    worker = await loginAs(ctx.app, team.worker.email);
    manager = await loginAs(ctx.app, team.manager.email);
    admin = await loginAs(ctx.app, team.admin.email);
    person = (
      await createPerson(worker, {
        firstName: 'Hélène',
        lastName: 'Bénard',
        address: '12 rue de la Roë, 49100 Angers',
        situation: 'Hébergée chez sa sœur depuis l’été',
      })
    ).id;
    expect(
      (
        await worker.post(`/api/persons/${person}/contacts`).send({
          occurredAt: '2026-12-18T10:00:00+01:00',
          channel: 'street',
          outcome: 'reached',
          summary: 'Rencontrée devant la médiathèque',
          privateNote: NOTE,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await worker
          .post(`/api/persons/${person}/follow-ups`)
          .send({ dueAt: '2026-12-22T10:00:00+01:00', title: 'Rappeler pour l’APL' })
      ).status,
    ).toBe(201);
    await worker.put(`/api/persons/${person}/rights/apl`).send({ status: 'claim_in_progress' });
    await worker
      .put(`/api/persons/${person}/rights/apl`)
      .send({ status: 'obtained', monthlyAmount: 215.5, note: 'Versée depuis décembre' });
    const food = await createFoodBank();
    await giveConsent(worker, person, food.partner.id);
    referral = (await refer(worker, person, food.partner.id)).body.id;
    const [report] = await testKnex()('reports')
      .insert({
        structure_id: team.structure.id,
        receipt_number: 'K7MPQRST',
        channel: 'public',
        location_enc: ctx.deps.cipher.encrypt('Parvis de la médiathèque'),
        who_enc: ctx.deps.cipher.encrypt('Une dame âgée, manteau rouge'),
        concern_enc: ctx.deps.cipher.encrypt('Elle semble dormir dehors'),
        reporter_contact_enc: ctx.deps.cipher.encrypt('Voisine du 3e, 06 98 76 54 32'),
        created_at: NOW,
        triaged_at: NOW,
        triaged_by: team.worker.id,
        triage_action: 'link',
        person_id: person,
      })
      .returning('id');
    reportId = report.id;
    await testKnex()('audit_events').insert({
      structure_id: team.structure.id,
      actor_id: team.worker.id,
      actor_role: 'worker',
      action: 'report.read',
      subject_type: 'report',
      subject_id: reportId,
    });
    await worker.get(`/api/persons/${person}`);
  });
  afterAll(async () => ctx.close());

  describe('GET /api/persons/:id/export', () => {
    it('when a manager exports, then everything held comes back, private notes of every author and who read the file included, and the export is audited', async () => {
      const res = await manager.get(`/api/persons/${person}/export`);
      expect(res.status).toBe(200);
      const e = res.body;
      expect(e.generatedAt).toBe(NOW.toISOString());
      expect(e.person).toMatchObject({
        firstName: 'Hélène',
        lastName: 'Bénard',
        address: '12 rue de la Roë, 49100 Angers',
        situation: 'Hébergée chez sa sœur depuis l’été',
      });
      expect(e.contacts).toEqual([
        expect.objectContaining({
          channel: 'street',
          author: 'Léa Martin',
          summary: 'Rencontrée devant la médiathèque',
          privateNote: NOTE,
        }),
      ]);
      expect(e.followUps).toEqual([
        expect.objectContaining({ title: 'Rappeler pour l’APL', status: 'open' }),
      ]);
      expect(e.rights).toEqual([
        expect.objectContaining({
          code: 'apl',
          status: 'obtained',
          monthlyAmountCents: 21550,
          note: 'Versée depuis décembre',
          history: [
            expect.objectContaining({ status: 'obtained', actor: 'Léa Martin' }),
            expect.objectContaining({ status: 'claim_in_progress' }),
          ],
        }),
      ]);
      expect(e.consents).toEqual([
        expect.objectContaining({ purpose: 'referral', partner: 'Banque alimentaire' }),
      ]);
      expect(e.referrals).toEqual([
        expect.objectContaining({
          id: referral,
          partner: 'Banque alimentaire',
          reason: 'Besoin alimentaire urgent',
          sharedSummary: 'Famille de trois personnes',
          events: [expect.objectContaining({ toStatus: 'requested', actor: 'Léa Martin' })],
        }),
      ]);
      // The report about her, without who reported it nor how to reach them.
      expect(e.reports).toEqual([
        {
          receiptNumber: 'K7MPQRST',
          channel: 'public',
          createdAt: NOW.toISOString(),
          location: 'Parvis de la médiathèque',
          who: 'Une dame âgée, manteau rouge',
          concern: 'Elle semble dormir dehors',
          triagedAt: NOW.toISOString(),
          triageAction: 'link',
        },
      ]);
      expect(JSON.stringify(e)).not.toContain('Voisine du 3e');
      const reads = e.accessLog.filter((a: { action: string }) => a.action === 'person.read');
      expect(reads[0]).toMatchObject({
        subjectId: person,
        actor: { id: team.worker.id, name: 'Léa Martin', role: 'worker' },
      });
      expect(e.accessLog.map((a: { action: string }) => a.action)).toEqual(
        expect.arrayContaining(['person.create', 'contact.create', 'referral.create']),
      );
      const exports = await testKnex()('audit_events').where({
        action: 'person.export',
        subject_id: person,
      });
      expect(exports).toEqual([
        expect.objectContaining({ actor_id: team.manager.id, details: { format: 'json' } }),
      ]);
    });

    it('when a worker or an admin asks, then 403; a manager of another structure gets 404', async () => {
      expect((await worker.get(`/api/persons/${person}/export`)).status).toBe(403);
      expect((await admin.get(`/api/persons/${person}/export`)).status).toBe(403);
      const other = await createTeam();
      const outsider = await loginAs(ctx.app, other.manager.email);
      expect((await outsider.get(`/api/persons/${person}/export`)).status).toBe(404);
      expect((await manager.get(`/api/persons/${person}/export?format=xml`)).status).toBe(400);
    });

    it('when a manager prints it from the file, then a French PDF holds the file, the notes, the address and who read it', async () => {
      const file = await manager.get(`/personnes/${person}`);
      expect(file.text).toContain(`href="/personnes/${person}/export.pdf"`);
      expect(file.text).toContain(`href="/personnes/${person}/journal"`);
      const res = await manager.get(`/personnes/${person}/export.pdf`).buffer(true).parse(binary);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      const { text } = await pdfTextOf(res.body as Buffer);
      for (const part of [
        'Données détenues sur Hélène Bénard',
        'au titre du droit d’accès (article 15 du RGPD)',
        'Adresse : 12 rue de la Roë, 49100 Angers',
        'Situation : Hébergée chez sa sœur depuis l’été',
        `Note privée du professionnel : ${NOTE}`,
        'Aide personnalisée au logement (APL, ALS, ALF) — Obtenu',
        'Montant mensuel : 215,50 €',
        'Banque alimentaire : Demandée',
        'Signalement n° K7MPQRST du 19 décembre 2026 à 22:00',
        'Inquiétude : Elle semble dormir dehors',
        'Qui a consulté ou modifié votre dossier',
        'Consultation de la fiche — Léa Martin (',
      ])
        expect(text).toContain(part);
      expect(text).not.toContain('Voisine du 3e');
      expect(
        await testKnex()('audit_events').where({ action: 'person.export', subject_id: person }),
      ).toContainEqual(expect.objectContaining({ details: { format: 'pdf' } }));
    });

    it('when the PDF is made at 00:30 on 1 January in Paris (23:30 UTC the day before), then its file name has the Paris date', async () => {
      clock.set('2026-12-31T23:30:00Z');
      try {
        const res = await manager.get(`/personnes/${person}/export.pdf`).buffer(true).parse(binary);
        expect(res.status).toBe(200);
        expect(res.headers['content-disposition']).toBe(
          'attachment; filename="donnees-2027-01-01.pdf"',
        );
      } finally {
        clock.set(NOW);
      }
    });

    it('when a follow-up was cancelled, then the file and the PDF say "Annulé le", never "Fait le"; a done one "Fait le"', async () => {
      const p = (await createPerson(worker, { firstName: 'Paul', lastName: 'Suivi' })).id;
      const plan = async (title: string) => {
        const res = await worker
          .post(`/api/persons/${p}/follow-ups`)
          .send({ dueAt: '2026-12-22T10:00:00+01:00', title });
        expect(res.status).toBe(201);
        return res.body.id as string;
      };
      const cancelled = await plan('Accompagner à la CAF');
      const done = await plan('Rappeler la mission locale');
      for (const [id, status] of [
        [cancelled, 'cancelled'],
        [done, 'done'],
      ])
        expect((await worker.patch(`/api/follow-ups/${id}`).send({ status })).status).toBe(200);

      const file = await worker.get(`/personnes/${p}`);
      expect(file.status).toBe(200);
      expect(file.text).toMatch(
        /Suivi · Accompagner à la CAF · Annulé<\/p><p[^>]*>Annulé le 19 décembre 2026 à 22:00/,
      );
      expect(file.text).toMatch(
        /Suivi · Rappeler la mission locale · Fait<\/p><p[^>]*>Fait le 19 décembre 2026 à 22:00/,
      );
      expect(file.text.match(/Fait le /g)).toHaveLength(1);

      const res = await manager.get(`/personnes/${p}/export.pdf`).buffer(true).parse(binary);
      expect(res.status).toBe(200);
      const { text } = await pdfTextOf(res.body as Buffer);
      expect(text).toContain(
        'Accompagner à la CAF — prévu le 22 décembre 2026 à 10:00 Statut : Annulé Confié à : Léa Martin Annulé le : 19 décembre 2026 à 22:00',
      );
      expect(text).toContain(
        'Rappeler la mission locale — prévu le 22 décembre 2026 à 10:00 Statut : Fait Confié à : Léa Martin Fait le : 19 décembre 2026 à 22:00',
      );
      expect(text).not.toContain('Terminé le');
    });

    it('when a worker opens the file, then no export nor journal button; the pages answer 403', async () => {
      const file = await worker.get(`/personnes/${person}`);
      expect(file.text).not.toContain('export.pdf');
      expect(file.text).toContain(`href="/personnes/${person}/courrier"`);
      expect((await worker.get(`/personnes/${person}/export.pdf`)).status).toBe(403);
      expect((await worker.get(`/personnes/${person}/journal`)).status).toBe(403);
    });
  });

  describe('GET /api/audit', () => {
    it('when a manager asks for a person, then their reads and changes, newest first, paged, and the reading is audited', async () => {
      // Page 2 first: each reading adds an audit.read on top of the list.
      const second = await manager.get(`/api/audit?personId=${person}&pageSize=2&page=2`);
      const all = await manager.get(`/api/audit?personId=${person}&pageSize=100`);
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ page: 1, pageSize: 100 });
      expect(all.body.total).toBe(all.body.items.length);
      const at = all.body.items.map((e: { at: string }) => e.at);
      expect([...at].sort().reverse()).toEqual(at);
      // The referral's and the report's own events come with the person's.
      expect(all.body.items).toContainEqual(
        expect.objectContaining({ subjectType: 'referral', subjectId: referral }),
      );
      expect(all.body.items).toContainEqual(
        expect.objectContaining({ action: 'report.read', subjectId: reportId }),
      );
      expect(all.body.items[0]).toMatchObject({ action: 'audit.read', subjectId: person });
      expect(second.body).toMatchObject({ page: 2, pageSize: 2, total: all.body.total - 1 });
      expect(second.body.items).toEqual(all.body.items.slice(3, 5));
      expect(
        await testKnex()('audit_events').where({
          action: 'audit.read',
          subject_id: person,
          actor_id: team.manager.id,
        }),
      ).not.toHaveLength(0);
    });

    it('when filtered by user and by period, then only those events', async () => {
      const mine = await manager.get(`/api/audit?userId=${team.worker.id}&pageSize=100`);
      expect(mine.status).toBe(200);
      expect(mine.body.items.length).toBeGreaterThan(0);
      for (const e of mine.body.items) expect(e.actor.id).toBe(team.worker.id);
      await testKnex()('audit_events').insert([
        {
          structure_id: team.structure.id,
          action: 'person.read',
          subject_type: 'person',
          subject_id: person,
          created_at: paris('2026-03-01T23:30:00'),
        },
        {
          structure_id: team.structure.id,
          action: 'person.read',
          subject_type: 'person',
          subject_id: person,
          created_at: paris('2026-03-02T00:30:00'),
        },
      ]);
      // Paris days: 1 March 23:30 in Paris is 22:30 UTC, still the 1st.
      const day = await manager.get(`/api/audit?personId=${person}&from=2026-03-01&to=2026-03-01`);
      expect(day.body.items.map((e: { at: string }) => e.at)).toEqual([
        paris('2026-03-01T23:30:00').toISOString(),
      ]);
      const two = await manager.get(`/api/audit?from=2026-03-01&to=2026-03-02`);
      expect(two.body.total).toBe(2);
    });

    it('when an admin reads the audit, then person-data events come without subject or details, and asking for a person is refused', async () => {
      const res = await admin.get('/api/audit?pageSize=100');
      expect(res.status).toBe(200);
      const personal = res.body.items.filter((e: { subjectType: string }) =>
        ['person', 'referral', 'follow_up'].includes(e.subjectType),
      );
      expect(personal.length).toBeGreaterThan(0);
      for (const e of personal) expect(e).toMatchObject({ subjectId: null, details: null });
      expect((await admin.get(`/api/audit?personId=${person}`)).status).toBe(403);
    });

    it('when the input is wrong or out of scope, then 400 naming the field, 403 or 404', async () => {
      for (const [q, field] of [
        ['from=2026-13-01', 'from'],
        ['from=2026-02-30', 'from'],
        ['from=2026-03-02&to=2026-03-01', 'to'],
        ['personId=abc', 'personId'],
        ['pageSize=1000', 'pageSize'],
        ['who=me', ''],
      ]) {
        const res = await manager.get(`/api/audit?${q}`);
        expect([q, res.status]).toEqual([q, 400]);
        if (field) expect(JSON.stringify(res.body.error.details)).toContain(field);
      }
      expect((await worker.get('/api/audit')).status).toBe(403);
      const other = await createTeam();
      const outsider = await loginAs(ctx.app, other.manager.email);
      expect((await outsider.get(`/api/audit?personId=${person}`)).status).toBe(404);
      // Another structure's events never show.
      const theirs = await outsider.get('/api/audit?pageSize=100');
      expect(
        theirs.body.items.filter((e: { subjectId: string }) => e.subjectId === person),
      ).toEqual([]);
    });

    it('when asked for a file merged since, then the kept file’s history, the merged file’s events included; its journal page leads to the kept file’s', async () => {
      const merged = (await createPerson(worker, { alias: 'Monsieur Loyal' })).id;
      const kept = (await createPerson(worker, { alias: 'M. Loyal, cirque' })).id;
      await worker.get(`/api/persons/${merged}`).expect(200);
      await manager
        .post(`/api/persons/${merged}/merge`)
        .send({ intoId: kept, version: 1, intoVersion: 1 })
        .expect(200);
      const res = await manager.get(`/api/audit?personId=${merged}&pageSize=100`);
      expect(res.status).toBe(200);
      const events = res.body.items.map((e: { action: string; subjectId: string }) => [
        e.action,
        e.subjectId,
      ]);
      expect(events).toEqual(
        expect.arrayContaining([
          ['person.create', merged],
          ['person.read', merged],
          ['person.merged', merged],
          ['person.create', kept],
          ['person.merge', kept],
        ]),
      );
      // The reading is audited on the file read: the kept one.
      expect(
        await testKnex()('audit_events').where({ action: 'audit.read', subject_id: kept }),
      ).toHaveLength(1);
      const other = await createTeam();
      const outsider = await loginAs(ctx.app, other.manager.email);
      expect((await outsider.get(`/api/audit?personId=${merged}`)).status).toBe(404);

      const page = await manager.get(`/personnes/${merged}/journal`);
      expect(page.status).toBe(404);
      expect(page.text).toContain(`href="/personnes/${kept}/journal"`);
      const journal = await manager.get(`/personnes/${kept}/journal`);
      expect(journal.status).toBe(200);
      expect(journal.text).toContain('Fiche fusionnée dans une autre');
    });

    it('when a manager opens the journal page, then the reads are listed in French with who and when', async () => {
      const page = await manager.get(`/personnes/${person}/journal`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Journal des accès à la fiche de Hélène Bénard');
      expect(page.text).toContain('Consultation de la fiche');
      expect(page.text).toContain('Léa Martin (');
    });
  });

  describe('the letter form on the person file', () => {
    it('when a worker sends the form, then the PDF comes back and the contact is logged; without a date, the form says so', async () => {
      const form = await worker.get(`/personnes/${person}/courrier`);
      expect(form.status).toBe(200);
      expect(form.text).toContain('12 rue de la Roë, 49100 Angers');
      const csrf = csrfOf(form.text);
      const missing = await worker
        .post(`/personnes/${person}/courrier`)
        .type('form')
        .send({ _csrf: csrf, kind: 'meeting', place: 'Mairie' });
      expect(missing.status).toBe(400);
      expect(missing.text).toContain('Saisissez la date et l’heure du rendez-vous');
      const res = await worker
        .post(`/personnes/${person}/courrier`)
        .type('form')
        .send({ _csrf: csrf, kind: 'meeting', at: '2027-01-08T10:30', place: 'Mairie, salle 2' })
        .buffer(true)
        .parse(binary);
      expect(res.status).toBe(201);
      const { text } = await pdfTextOf(res.body as Buffer);
      expect(text).toContain('12 rue de la Roë 49100 Angers');
      expect(text).toContain('le vendredi 8 janvier 2027 à 10 h 30');
      expect(
        await testKnex()('contacts').where({ person_id: person, channel: 'mail' }),
      ).toHaveLength(1);
    });

    it('when the person has no postal address, then the form says so with 422', async () => {
      const p = await createPerson(worker, { address: null, alias: 'Homme au chien' });
      const form = await worker.get(`/personnes/${p.id}/courrier`);
      const res = await worker
        .post(`/personnes/${p.id}/courrier`)
        .type('form')
        .send({ _csrf: csrfOf(form.text), kind: 'call', phone: '02 41 00 00 00' });
      expect(res.status).toBe(422);
      expect(res.text).toContain('n’a pas d’adresse postale');
    });

    it('when the person is known by an alias only, then the form warns before it is sent and says why with 422', async () => {
      const p = await createPerson(worker, {
        address: '3 rue des Lices, 49100 Angers',
        alias: 'Homme au chien',
        firstName: null,
        lastName: null,
      });
      const form = await worker.get(`/personnes/${p.id}/courrier`);
      expect(form.status).toBe(200);
      expect(form.text).toMatch(/fr-alert--warning[^>]*><p>Cette personne n’a ni prénom ni nom/);
      const res = await worker
        .post(`/personnes/${p.id}/courrier`)
        .type('form')
        .send({ _csrf: csrfOf(form.text), kind: 'call', phone: '02 41 00 00 00' });
      expect(res.status).toBe(422);
      expect(res.text).toContain('Cette personne n’a ni prénom ni nom');
      expect(await testKnex()('contacts').where({ person_id: p.id })).toEqual([]);
    });
  });
});
