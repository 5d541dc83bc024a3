import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam } from '../setup/factories';
import { csrfOf, inputValue } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** Saturday 5 December 2026, 23:58 in Paris: a weekend night, two minutes before Sunday. */
const NOW = '2026-12-05T22:58:00.000Z';

/** An error message by its field, as the pages write it. */
const errorOf = (html: string, id: string) =>
  new RegExp(`<p id="${id}-error" class="fr-error-text">([^<]*)</p>`).exec(html)?.[1];

/**
 * Dates that make sense and lengths that are said, on the pages: each refusal is a French
 * message naming the field, by the field and in the summary, with everything typed kept.
 */
describe('date rules and length messages on the pages (clock fixed on a Saturday night)', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let admin: Agent;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    [worker, admin] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.admin.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const newPerson = async (body: Record<string, unknown> = {}) =>
    (
      await worker
        .post('/api/persons')
        .send({ alias: 'Homme au chien', source: 'outreach', ...body })
        .expect(201)
    ).body as { id: string; version: number };

  /** Posts a form as the page at `from` would, with its CSRF token. */
  async function post(agent: Agent, from: string, path: string, form: Record<string, string>) {
    const page = await agent.get(from);
    return agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  describe('the contact form', () => {
    it('when the contact is dated Sunday 00:30, then 400: the message names the date of the contact, and everything typed stays', async () => {
      const { id } = await newPerson();
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/contacts`, {
        channel: 'street',
        outcome: 'reached',
        occurredAt: '2026-12-06T00:30',
        summary: 'Rencontré devant la gare',
        nextFollowUpAt: '2026-12-07T10:00',
        nextFollowUpTitle: 'Rappeler lundi',
      });
      expect(res.status).toBe(400);
      const message =
        'La date du contact est dans le futur : indiquez quand il a eu lieu, au plus tard maintenant';
      expect(errorOf(res.text, 'contact-occurredAt')).toBe(message);
      expect(res.text).toContain(`Date et heure du contact : ${message}`);
      expect(res.text).toMatch(/id="contact-occurredAt"[^>]*aria-invalid="true"/);
      expect(inputValue(res.text, 'contact-occurredAt')).toBe('2026-12-06T00:30');
      expect(inputValue(res.text, 'contact-nextFollowUpAt')).toBe('2026-12-07T10:00');
      expect(inputValue(res.text, 'contact-nextFollowUpTitle')).toBe('Rappeler lundi');
      // Only the faulty field is marked.
      expect(res.text).toContain('Le formulaire contient une erreur');
      expect(res.text).toContain('>Rencontré devant la gare</textarea>');
      expect(res.text).toMatch(/<option value="street" selected/);
      expect(await testKnex()('contacts').where({ person_id: id })).toHaveLength(0);
    });

    it('when the contact is dated 00:01 (a phone three minutes fast), then it is recorded', async () => {
      const { id } = await newPerson();
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/contacts`, {
        channel: 'street',
        outcome: 'reached',
        occurredAt: '2026-12-06T00:01',
      });
      expect(res.status).toBe(303);
      expect(await testKnex()('contacts').where({ person_id: id })).toHaveLength(1);
    });

    it('when the next follow-up is at Saturday 20:00, then 400 asks to confirm with the box; ticked, the contact and its late follow-up are recorded', async () => {
      const { id } = await newPerson();
      const form = {
        channel: 'phone',
        outcome: 'reached',
        occurredAt: '2026-12-05T23:30',
        nextFollowUpAt: '2026-12-05T20:00',
        nextFollowUpTitle: 'Appel promis à 20 h',
      };
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/contacts`, form);
      expect(res.status).toBe(400);
      expect(errorOf(res.text, 'contact-nextFollowUpAt')).toBe(
        'La date du prochain suivi est passée : corrigez-la, ou cochez « Je confirme cette date passée (action en retard) » pour l’enregistrer quand même',
      );
      expect(res.text).toMatch(/<input type="checkbox" id="contact-allowPast" name="allowPast"/);
      expect(res.text).not.toMatch(/id="contact-allowPast"[^>]*checked/);
      expect(inputValue(res.text, 'contact-nextFollowUpAt')).toBe('2026-12-05T20:00');
      expect(inputValue(res.text, 'contact-occurredAt')).toBe('2026-12-05T23:30');
      expect(await testKnex()('contacts').where({ person_id: id })).toHaveLength(0);

      const ok = await post(worker, `/personnes/${id}`, `/personnes/${id}/contacts`, {
        ...form,
        allowPast: '1',
      });
      expect(ok.status).toBe(303);
      const [f] = await testKnex()('follow_ups').where({ person_id: id });
      expect(f).toMatchObject({ title: 'Appel promis à 20 h', status: 'open' });
      expect(f.due_at.toISOString()).toBe('2026-12-05T19:00:00.000Z');
    });
  });

  describe('the follow-up forms', () => {
    it('when a follow-up is planned for Saturday 20:00, then 400 names the date of the follow-up and keeps the title and date; with the box ticked, it is planned', async () => {
      const { id } = await newPerson();
      const form = { title: 'Appeler la CAF (fait ce soir)', dueAt: '2026-12-05T20:00' };
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/suivis`, form);
      expect(res.status).toBe(400);
      const message =
        'La date du suivi est passée : corrigez-la, ou cochez « Je confirme cette date passée (action en retard) » pour l’enregistrer quand même';
      expect(errorOf(res.text, 'suivi-dueAt')).toBe(message);
      expect(res.text).toContain(`À faire le : ${message}`);
      expect(inputValue(res.text, 'suivi-title')).toBe(form.title);
      expect(inputValue(res.text, 'suivi-dueAt')).toBe(form.dueAt);
      expect(await testKnex()('follow_ups').where({ person_id: id })).toHaveLength(0);

      const ok = await post(worker, `/personnes/${id}`, `/personnes/${id}/suivis`, {
        ...form,
        allowPast: '1',
      });
      expect(ok.status).toBe(303);
      const file = await worker.get(`/personnes/${id}`);
      expect(file.text).toMatch(/En retard<\/span>Prévu le [^<]*20:00/);
    });

    it('when a follow-up is planned for Monday 09:00, then no confirmation is needed: the weekend changes nothing', async () => {
      const { id } = await newPerson();
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/suivis`, {
        title: 'Accompagner à la CPAM',
        dueAt: '2026-12-07T09:00',
      });
      expect(res.status).toBe(303);
    });

    it('when a follow-up is moved to a past date, then 400 on the file by that follow-up, the box offered and the date kept; ticked, it moves', async () => {
      const { id } = await newPerson();
      const f = (
        await worker
          .post(`/api/persons/${id}/follow-ups`)
          .send({ title: 'Visite', dueAt: '2026-12-08T09:00:00Z' })
          .expect(201)
      ).body as { id: string };
      const form = { action: 'reporter', retour: `/personnes/${id}`, dueAt: '2026-12-04T10:00' };
      const before = await worker.get(`/personnes/${id}`);
      // Offered only when a date comes back refused.
      expect(before.text).not.toContain(`id="report-${f.id}-allowPast"`);
      const res = await post(worker, `/personnes/${id}`, `/suivis/${f.id}`, form);
      expect(res.status).toBe(400);
      expect(errorOf(res.text, `report-${f.id}-dueAt`)).toMatch(
        /^La nouvelle date du suivi est passée : corrigez-la, ou cochez/,
      );
      expect(inputValue(res.text, `report-${f.id}-dueAt`)).toBe('2026-12-04T10:00');
      expect(res.text).toContain(`id="report-${f.id}-allowPast"`);
      const row = await testKnex()('follow_ups').where({ id: f.id }).first();
      expect(row.due_at.toISOString()).toBe('2026-12-08T09:00:00.000Z');

      const ok = await post(worker, `/personnes/${id}`, `/suivis/${f.id}`, {
        ...form,
        allowPast: '1',
      });
      expect(ok.status).toBe(303);
      const moved = await testKnex()('follow_ups').where({ id: f.id }).first();
      expect(moved.due_at.toISOString()).toBe('2026-12-04T09:00:00.000Z');
    });
  });

  describe('the birth year', () => {
    const message = 'L’année de naissance doit être comprise entre 1900 et l’année en cours';

    it.each(['2027', '1899'])(
      'when a person is recorded born in %s, then 400 names the birth year and keeps every field',
      async (year) => {
        const form = { alias: 'Dame du marché', source: 'outreach', birthYear: year };
        const res = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', form);
        expect(res.status).toBe(400);
        expect(errorOf(res.text, 'birthYear')).toBe(message);
        expect(res.text).toContain(`Année de naissance : ${message}`);
        expect(inputValue(res.text, 'birthYear')).toBe(year);
        expect(inputValue(res.text, 'alias')).toBe('Dame du marché');
        expect(
          await testKnex()('persons').where({
            structure_id: team.structure.id,
            birth_year: Number(year),
          }),
        ).toHaveLength(0);
      },
    );

    it('when a person file is completed with next year as birth year, then 400 names it and keeps what was typed', async () => {
      const p = await newPerson({ birthYear: 1975 });
      const res = await post(worker, `/personnes/${p.id}/modifier`, `/personnes/${p.id}/modifier`, {
        alias: 'Homme au chien noir',
        birthYear: '2027',
        source: 'outreach',
        version: String(p.version),
      });
      expect(res.status).toBe(400);
      expect(errorOf(res.text, 'birthYear')).toBe(message);
      expect(inputValue(res.text, 'birthYear')).toBe('2027');
      expect(inputValue(res.text, 'alias')).toBe('Homme au chien noir');
      const row = await testKnex()('persons').where({ id: p.id }).first();
      expect(row).toMatchObject({ birth_year: 1975, version: p.version });
    });
  });

  describe('consents', () => {
    it('when a consent is dated tomorrow, then 400 names the date of the consent and keeps the partner and date', async () => {
      const partner = await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id);
      const { id } = await newPerson();
      const page = `/personnes/${id}/orientations`;
      const res = await post(worker, page, `/personnes/${id}/consentements`, {
        partnerId: partner.id,
        method: 'written',
        givenAt: '2026-12-06T10:00',
      });
      expect(res.status).toBe(400);
      const message =
        'La date de l’accord est dans le futur : indiquez quand la personne l’a donné, au plus tard maintenant';
      expect(errorOf(res.text, 'consent-givenAt')).toBe(message);
      expect(inputValue(res.text, 'consent-givenAt')).toBe('2026-12-06T10:00');
      expect(res.text).toMatch(new RegExp(`<option value="${partner.id}" selected`));
      expect(res.text).toMatch(/<option value="written" selected/);
      expect(await testKnex()('consents').where({ person_id: id })).toHaveLength(0);
    });

    it('withdrawing a consent asks for confirmation on a page of its own, saying what it cancels; only the confirmation withdraws', async () => {
      const partner = await createPartner(testKnex(), 'Jardin partagé', team.structure.id);
      const { id } = await newPerson();
      const consent = (
        await worker
          .post(`/api/persons/${id}/consents`)
          .send({ purpose: 'referral', partnerId: partner.id, method: 'oral', givenAt: NOW })
          .expect(201)
      ).body as { id: string };
      const referral = (
        await worker
          .post(`/api/persons/${id}/referrals`)
          .send({ partnerId: partner.id, reason: 'Besoin d’un accompagnement au jardin' })
          .expect(201)
      ).body as { id: string };

      // The list links to the confirmation; it no longer withdraws in one click.
      const list = await worker.get(`/personnes/${id}/orientations`);
      expect(list.text).toContain(`href="/consentements/${consent.id}/retrait"`);
      expect(list.text).not.toContain(`action="/consentements/${consent.id}/retrait"`);

      // Another structure's worker meets a 404, reading and posting alike.
      const outsider = await loginAs(ctx.app, (await createTeam()).worker.email);
      expect((await outsider.get(`/consentements/${consent.id}/retrait`)).status).toBe(404);
      const foreign = await post(outsider, '/personnes', `/consentements/${consent.id}/retrait`, {
        confirmation: 'oui',
      });
      expect(foreign.status).toBe(404);

      const confirm = await worker.get(`/consentements/${consent.id}/retrait`);
      expect(confirm.status).toBe(200);
      // Showing the consent is a read of the person's file.
      const reads = await testKnex()('audit_events').where({
        action: 'consent.read',
        subject_id: id,
        actor_id: team.worker.id,
      });
      expect(reads).toHaveLength(1);
      expect(confirm.text).toContain('Retirer le consentement de Homme au chien ?');
      expect(confirm.text).toContain('L’orientation en cours vers Jardin partagé sera annulée.');
      expect(confirm.text).toContain('Jardin partagé ne verra plus la personne.');
      expect(confirm.text).toContain('name="confirmation" value="oui"');
      expect(confirm.text).toContain(`href="/personnes/${id}/orientations"`);

      // A post without the confirmation (an old page, a stray request) only leads to the question.
      const unconfirmed = await post(
        worker,
        `/consentements/${consent.id}/retrait`,
        `/consentements/${consent.id}/retrait`,
        {},
      );
      expect(unconfirmed.status).toBe(303);
      expect(unconfirmed.headers.location).toBe(`/consentements/${consent.id}/retrait`);
      expect(
        (await testKnex()('consents').where({ id: consent.id }).first()).revoked_at,
      ).toBeNull();
      expect((await testKnex()('referrals').where({ id: referral.id }).first()).status).toBe(
        'requested',
      );

      const done = await post(
        worker,
        `/consentements/${consent.id}/retrait`,
        `/consentements/${consent.id}/retrait`,
        { confirmation: 'oui' },
      );
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe(`/personnes/${id}/orientations`);
      expect(
        (await testKnex()('consents').where({ id: consent.id }).first()).revoked_at,
      ).not.toBeNull();
      expect((await testKnex()('referrals').where({ id: referral.id }).first()).status).toBe(
        'cancelled',
      );
      // Once withdrawn, the question is not asked again.
      const again = await worker.get(`/consentements/${consent.id}/retrait`);
      expect(again.status).toBe(303);
      expect(again.headers.location).toBe(`/personnes/${id}/orientations`);
    });

    it('the referral form says plainly that the partner sees the reason too', async () => {
      const { id } = await newPerson();
      const page = await worker.get(`/personnes/${id}/orientations`);
      expect(page.text).toContain(
        'Le partenaire reçoit le motif de l’orientation et les éléments à partager',
      );
      expect(page.text).toContain('Le partenaire verra aussi ce motif');
    });
  });

  describe('lengths are said', () => {
    it('when an alias is 121 characters long, then the message says 120 at most and how many were typed', async () => {
      const alias = 'a'.repeat(121);
      const res = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
        alias,
        source: 'outreach',
      });
      expect(res.status).toBe(400);
      expect(errorOf(res.text, 'alias')).toBe('Saisissez 120 caractères au plus (121 saisis)');
      expect(inputValue(res.text, 'alias')).toBe(alias);
    });

    it('when a referral reason is too long, then the message says 2 000 at most', async () => {
      const partner = await createPartner(testKnex(), 'Banque alimentaire', team.structure.id);
      const { id } = await newPerson();
      const reason = 'r'.repeat(2001);
      const res = await post(
        worker,
        `/personnes/${id}/orientations`,
        `/personnes/${id}/orientations`,
        {
          partnerId: partner.id,
          reason,
        },
      );
      expect(res.status).toBe(400);
      expect(errorOf(res.text, 'referral-reason')).toBe(
        'Saisissez 2\u00a0000 caractères au plus (2\u00a0001 saisis)',
      );
      expect(res.text).toContain(`>${reason}</textarea>`);
    });
  });

  describe('partner websites', () => {
    it('when an admin gives a javascript: website, then 400 asks for an http(s) address, keeps what was typed and writes nothing', async () => {
      const form = {
        name: 'Ressourcerie du quai',
        email: 'contact@ressourcerie.test',
        website: 'javascript:alert(document.cookie)',
        serviceName: 'Bons d’achat',
        themes: 'equipement-et-alimentation',
      };
      const res = await post(admin, '/admin/partenaires', '/admin/partenaires', form);
      expect(res.status).toBe(400);
      expect(errorOf(res.text, 'partner-website')).toBe(
        'Indiquez une adresse web en http:// ou https://, par exemple https://www.partenaire.fr',
      );
      expect(inputValue(res.text, 'partner-website')).toBe(form.website);
      expect(inputValue(res.text, 'partner-name')).toBe(form.name);
      expect(await testKnex()('partners').where({ name: form.name })).toHaveLength(0);

      const ok = await post(admin, '/admin/partenaires', '/admin/partenaires', {
        ...form,
        website: 'https://ressourcerie.test',
      });
      expect(ok.status).toBe(303);
      const row = await testKnex()('partners').where({ name: form.name }).first();
      expect(row.website).toBe('https://ressourcerie.test');
    });

    it('when a partner name is too long, then the message says 200 at most', async () => {
      const res = await post(admin, '/admin/partenaires', '/admin/partenaires', {
        name: 'n'.repeat(201),
        email: 'contact@long.test',
        serviceName: 'Service',
        themes: 'equipement-et-alimentation',
      });
      expect(res.status).toBe(400);
      expect(errorOf(res.text, 'partner-name')).toBe(
        'Saisissez 200 caractères au plus (201 saisis)',
      );
    });
  });
});
