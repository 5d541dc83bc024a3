import { parisDay, toParisLocalInput } from '../../server/web/format';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { csrfOf, inputValue } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** Tomorrow at this Paris time, as a datetime-local field holds it. */
const tomorrowAt = (hhmm: string) => `${parisDay(new Date(Date.now() + 24 * 3600 * 1000))}T${hhmm}`;

/** The forms of the person file over HTTP: contact, plan, reschedule, complete. */
describe('person file forms over HTTP', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    personId = (
      await worker.post('/api/persons').send({ alias: 'Dame au vélo', source: 'outreach' })
    ).body.id;
  });
  afterAll(async () => ctx.close());

  async function plan(title: string): Promise<string> {
    const res = await worker
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ title, dueAt: new Date(Date.now() + 48 * 3600 * 1000).toISOString() });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function post(agent: Agent, path: string, form: Record<string, string>) {
    const page = await agent.get(`/personnes/${personId}`);
    return agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  it('when "Reporter" is sent with an empty date, then only the date error shows, next to the date field', async () => {
    const id = await plan('Appeler la CAF');
    const res = await post(worker, `/suivis/${id}`, {
      action: 'reporter',
      retour: `/personnes/${personId}`,
      dueAt: '',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Le formulaire contient une erreur');
    expect(res.text).toContain(
      `<p id="report-${id}-dueAt-error" class="fr-error-text">Indiquez la nouvelle date et l’heure du suivi</p>`,
    );
    expect(res.text).not.toContain('Cette valeur n’est pas valide');
    const row = await testKnex()('follow_ups').where({ id }).first();
    expect(row.status).toBe('open');
  });

  it('when a contact is sent without its outcome and with an impossible date, then 400 keeps what was typed and each message sits by its field', async () => {
    const res = await post(worker, `/personnes/${personId}/contacts`, {
      channel: 'phone',
      outcome: '',
      occurredAt: '2026-02-30T10:00',
      summary: 'A rappelé depuis la cabine de la gare',
      nextFollowUpTitle: 'Rappeler jeudi',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Le formulaire contient 2 erreurs');
    expect(res.text).toMatch(
      /<p id="contact-outcome-error" class="fr-error-text">Choisissez le résultat du contact<\/p>/,
    );
    expect(res.text).toMatch(
      /<p id="contact-occurredAt-error" class="fr-error-text">Indiquez la date/,
    );
    expect(res.text).toMatch(/id="contact-outcome"[^>]*aria-invalid="true"/);
    expect(res.text).toMatch(/<option value="phone" selected/);
    expect(inputValue(res.text, 'contact-occurredAt')).toBe('2026-02-30T10:00');
    expect(inputValue(res.text, 'contact-nextFollowUpTitle')).toBe('Rappeler jeudi');
    expect(res.text).toContain('>A rappelé depuis la cabine de la gare</textarea>');
    expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(0);
  });

  it('when a follow-up is planned without its title, then 400 keeps the date and the message sits by the title', async () => {
    const dueAt = tomorrowAt('09:30');
    const res = await post(worker, `/personnes/${personId}/suivis`, { title: '  ', dueAt });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(
      /<p id="suivi-title-error" class="fr-error-text">Indiquez l’action à faire/,
    );
    expect(res.text).toMatch(/id="suivi-title"[^>]*aria-invalid="true"/);
    expect(inputValue(res.text, 'suivi-dueAt')).toBe(dueAt);
    expect(res.text).not.toContain('id="suivi-dueAt-error"');
  });

  it('when a follow-up is rescheduled from the person file, then it moves to the new date and the file says so', async () => {
    const id = await plan('Accompagner à la CPAM');
    const dueAt = tomorrowAt('14:15');
    const res = await post(worker, `/suivis/${id}`, {
      action: 'reporter',
      retour: `/personnes/${personId}`,
      dueAt,
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/personnes/${personId}`);
    const row = await testKnex()('follow_ups').where({ id }).first();
    expect(toParisLocalInput(row.due_at)).toBe(dueAt);
    expect(row.status).toBe('open');
    const file = await worker.get(`/personnes/${personId}`);
    expect(file.text).toContain('Suivi « Accompagner à la CPAM » reporté.');
    expect(file.text).toMatch(/Accompagner à la CPAM[\s\S]*?Prévu le [^<]*14:15/);
  });

  it('when a follow-up is marked as done from the person file, then it leaves the open list and the file says so', async () => {
    const id = await plan('Déposer le dossier APL');
    const res = await post(worker, `/suivis/${id}`, {
      action: 'terminer',
      retour: `/personnes/${personId}`,
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/personnes/${personId}`);
    expect((await testKnex()('follow_ups').where({ id }).first()).status).toBe('done');
    const file = await worker.get(`/personnes/${personId}`);
    expect(file.text).toContain('Suivi « Déposer le dossier APL » marqué comme fait.');
    expect(file.text).not.toContain(`id="suivi-${id}"`);
    expect(file.text).toContain('Suivi · Déposer le dossier APL · Fait');
  });

  it('when the intake form is shown, then the alias is not marked required: a surname or a name will do', async () => {
    const page = await worker.get('/personnes/nouvelle');
    const alias =
      /<div class="fr-input-group"><label class="fr-label" for="alias">([\s\S]*?)<\/label><input[^>]*id="alias"[^>]*>/.exec(
        page.text,
      );
    expect(alias).not.toBeNull();
    expect(alias![1]).toContain('Surnom ou nom obligatoire');
    expect(alias![1]).not.toContain('*');
    expect(alias![0]).not.toMatch(/\brequired\b/);
  });

  it('when a person is recorded with a name and no alias, then it is created; with neither, the message sits by the alias', async () => {
    const page = await worker.get('/personnes/nouvelle');
    const named = await worker
      .post('/personnes/nouvelle')
      .type('form')
      .send({ _csrf: csrfOf(page.text), alias: '', lastName: 'Moreau', source: 'outreach' });
    expect(named.status).toBe(303);
    const none = await worker
      .post('/personnes/nouvelle')
      .type('form')
      .send({ _csrf: csrfOf(page.text), alias: ' ', firstName: '', source: 'outreach' });
    expect(none.status).toBe(400);
    expect(none.text).toContain(
      '<p id="alias-error" class="fr-error-text">Indiquez un surnom, une courte description ou un nom</p>',
    );
  });

  it('when a follow-up is a colleague’s, then the file offers neither button and a stale form gets a message on the file, not a 403 page', async () => {
    const colleague = await loginAs(ctx.app, team.worker2.email);
    const theirs = await colleague.post(`/api/persons/${personId}/follow-ups`).send({
      title: 'Visite de Zoé',
      dueAt: new Date(Date.now() + 72 * 3600 * 1000).toISOString(),
    });
    expect(theirs.status).toBe(201);
    const id = theirs.body.id as string;
    const file = await worker.get(`/personnes/${personId}`);
    const item = new RegExp(`<li[^>]*id="suivi-${id}"[\\s\\S]*?</li>`).exec(file.text)?.[0] ?? '';
    expect(item).toContain('Visite de Zoé');
    expect(item).not.toContain('Marquer comme fait');
    expect(item).not.toContain('Reporter');
    // A manager may change it: the buttons are there for them.
    const manager = await loginAs(ctx.app, team.manager.email);
    const managerFile = await manager.get(`/personnes/${personId}`);
    expect(new RegExp(`action="/suivis/${id}"`).test(managerFile.text)).toBe(true);

    const attempts: Record<string, string>[] = [
      { action: 'terminer' },
      { action: 'reporter', dueAt: tomorrowAt('08:00') },
    ];
    for (const action of attempts) {
      const res = await post(worker, `/suivis/${id}`, {
        ...action,
        retour: `/personnes/${personId}`,
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${personId}`);
      const back = await worker.get(res.headers.location);
      expect(back.text).toContain('Vous ne pouvez pas modifier ce suivi');
      expect(back.text).toMatch(/role="alert"><p>Vous ne pouvez pas modifier ce suivi/);
    }
    const row = await testKnex()('follow_ups').where({ id }).first();
    expect(row.status).toBe('open');
  });

  it('when a contact names a next follow-up without its date, then 400 asks for the date by its field and records nothing', async () => {
    const before = (await testKnex()('contacts').where({ person_id: personId })).length;
    const res = await post(worker, `/personnes/${personId}/contacts`, {
      channel: 'street',
      outcome: 'reached',
      // A valid date in the past (the contact itself is fine): only the follow-up's date is missing.
      occurredAt: '2025-11-20T08:00',
      nextFollowUpTitle: 'Revoir au marché',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Le formulaire contient une erreur');
    expect(res.text).toContain(
      '<p id="contact-nextFollowUpAt-error" class="fr-error-text">Indiquez une date et une heure valides pour le prochain suivi</p>',
    );
    expect(inputValue(res.text, 'contact-nextFollowUpTitle')).toBe('Revoir au marché');
    expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(before);
  });
});
