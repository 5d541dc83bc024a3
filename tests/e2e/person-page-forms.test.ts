import { parisDay, toParisLocalInput } from '../../server/web/format';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { csrfOf, inputValue } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** This Paris time `days` days from now, as a datetime-local field holds it. */
const dayAt = (days: number, hhmm: string) =>
  `${parisDay(new Date(Date.now() + days * 24 * 3600 * 1000))}T${hhmm}`;

/** The hidden version field of a follow-up's form of this kind (a page has several). */
function formVersion(html: string, action: string, kind: string): string | undefined {
  const forms = html.split('<form').filter((f) => f.includes(`action="${action}"`));
  const form = forms.find((f) => f.includes(`name="action" value="${kind}"`));
  return /name="version" value="(\d+)"/.exec(form ?? '')?.[1];
}

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
      expect(back.text).toMatch(/role="alert"[^>]*><p>Vous ne pouvez pas modifier ce suivi/);
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

  it('when a contact is noted with a private note, then its author reads it on the file, labelled private, and a colleague does not', async () => {
    const note = 'Semble avoir peur de son propriétaire';
    const res = await post(worker, `/personnes/${personId}/contacts`, {
      channel: 'street',
      outcome: 'reached',
      occurredAt: '2025-11-21T09:00',
      summary: 'Rencontrée au marché',
      privateNote: note,
    });
    expect(res.status).toBe(303);
    const row = await testKnex()('contacts')
      .where({ person_id: personId, author_id: team.worker.id })
      .orderBy('created_at', 'desc')
      .first();
    // Stored encrypted, as the API stores it.
    expect(row.private_note_enc).toMatch(/^v1\./);
    const mine = await worker.get(`/personnes/${personId}`);
    expect(mine.text).toContain('Rencontrée au marché');
    expect(mine.text).toMatch(
      /Note privée \(visible par vous seul·e\)<\/p><p[^>]*>Semble avoir peur de son propriétaire<\/p>/,
    );
    const colleague = await loginAs(ctx.app, team.worker2.email);
    const theirs = await colleague.get(`/personnes/${personId}`);
    expect(theirs.text).toContain('Rencontrée au marché');
    expect(theirs.text).not.toContain(note);
    expect(theirs.text).not.toContain('Note privée (visible');
  });

  it('when a contact with a private note comes back with a mistake, then the note is kept in its field', async () => {
    const res = await post(worker, `/personnes/${personId}/contacts`, {
      channel: 'street',
      outcome: '',
      occurredAt: '2025-11-21T09:00',
      privateNote: 'À ne pas perdre',
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="contact-privateNote"[^>]*>À ne pas perdre<\/textarea>/);
  });

  /**
   * The "done" and "reschedule" forms, from the file and from "Mes actions", send the version
   * they showed: a change made meanwhile answers 409 with what was typed kept on the page, and
   * a note too long is refused by its field rather than cut.
   */
  describe('follow-up forms: versions, conflicts and the note', () => {
    let manager: Agent;
    beforeAll(async () => {
      manager = await loginAs(ctx.app, team.manager.email);
    });

    it('when the pages show a follow-up, then its done and reschedule forms carry its version', async () => {
      const id = await plan('Rappeler la mission locale');
      const file = await worker.get(`/personnes/${personId}`);
      expect(formVersion(file.text, `/suivis/${id}`, 'terminer')).toBe('1');
      expect(formVersion(file.text, `/suivis/${id}`, 'reporter')).toBe('1');
      const home = await worker.get('/');
      expect(formVersion(home.text, `/suivis/${id}`, 'terminer')).toBe('1');
    });

    it('when a follow-up is rescheduled from a file read before a colleague moved it, then 409 shows it as it is now with the typed date kept, and sending again applies it', async () => {
      const id = await plan('Accompagner au CCAS');
      const file = await worker.get(`/personnes/${personId}`);
      const theirs = new Date(Date.now() + 5 * 24 * 3600 * 1000);
      theirs.setUTCSeconds(0, 0);
      const moved = await manager
        .patch(`/api/follow-ups/${id}`)
        .send({ dueAt: theirs.toISOString(), version: 1 });
      expect(moved.status).toBe(200);

      const mine = dayAt(3, '10:45');
      const res = await post(worker, `/suivis/${id}`, {
        action: 'reporter',
        retour: `/personnes/${personId}`,
        dueAt: mine,
        version: formVersion(file.text, `/suivis/${id}`, 'reporter')!,
      });
      expect(res.status).toBe(409);
      expect(res.text).toContain('Ce suivi a été modifié pendant que vous le changiez');
      expect(res.text).toContain('rien n’a été enregistré');
      expect(inputValue(res.text, `report-${id}-dueAt`)).toBe(mine);
      // The form now carries the saved version: sending it again is a choice made knowingly.
      expect(formVersion(res.text, `/suivis/${id}`, 'reporter')).toBe('2');
      const row = await testKnex()('follow_ups').where({ id }).first();
      expect(new Date(row.due_at).toISOString()).toBe(theirs.toISOString());

      const again = await post(worker, `/suivis/${id}`, {
        action: 'reporter',
        retour: `/personnes/${personId}`,
        dueAt: mine,
        version: '2',
      });
      expect(again.status).toBe(303);
      const after = await testKnex()('follow_ups').where({ id }).first();
      expect(toParisLocalInput(after.due_at)).toBe(mine);
      expect(after.version).toBe(3);
    });

    it('when a follow-up is marked done with a note from "Mes actions" after a colleague rescheduled it, then 409 keeps the note in its field and nothing is saved', async () => {
      const id = await plan('Déposer le dossier FSL');
      const home = await worker.get('/');
      await manager
        .patch(`/api/follow-ups/${id}`)
        .send({ dueAt: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString() });
      const note = 'Déposé au guichet, récépissé dans le dossier';
      const res = await post(worker, `/suivis/${id}`, {
        action: 'terminer',
        retour: '/',
        note,
        version: formVersion(home.text, `/suivis/${id}`, 'terminer')!,
      });
      expect(res.status).toBe(409);
      expect(res.text.includes('<h1>Mes actions</h1>')).toBe(true);
      expect(res.text.includes('Ce suivi a été modifié pendant que vous le changiez')).toBe(true);
      expect(inputValue(res.text, `fait-${id}-note`)).toBe(note);
      expect(formVersion(res.text, `/suivis/${id}`, 'terminer')).toBe('2');
      const row = await testKnex()('follow_ups').where({ id }).first();
      expect(row.status).toBe('open');
      expect(row.completion_note_enc).toBeNull();
    });

    it('when a follow-up is marked done with a note after a colleague already closed it, then 409 quotes the note so it is not lost', async () => {
      const id = await plan('Appeler le bailleur');
      const closed = await manager.patch(`/api/follow-ups/${id}`).send({ status: 'cancelled' });
      expect(closed.status).toBe(200);
      const res = await post(worker, `/suivis/${id}`, {
        action: 'terminer',
        retour: `/personnes/${personId}`,
        note: 'Le bailleur accepte un échéancier',
        version: '1',
      });
      expect(res.status).toBe(409);
      expect(res.text.includes('Quelqu’un d’autre l’a modifié')).toBe(true);
      expect(
        res.text.includes(
          'la voici pour la reporter où il faut : « Le bailleur accepte un échéancier »',
        ),
      ).toBe(true);
      // A form without a version (a page of before) meets the closed follow-up itself.
      const unversioned = await post(worker, `/suivis/${id}`, {
        action: 'terminer',
        retour: `/personnes/${personId}`,
        note: 'Échéancier signé',
      });
      expect(unversioned.status).toBe(409);
      expect(unversioned.text.includes('Il a déjà été fait, annulé ou rouvert entre-temps')).toBe(
        true,
      );
      expect(unversioned.text.includes('« Échéancier signé »')).toBe(true);
      expect((await testKnex()('follow_ups').where({ id }).first()).status).toBe('cancelled');
    });

    it('when the note is longer than 280 characters, then 400 says so by the field and keeps it whole, and the follow-up stays open', async () => {
      const id = await plan('Relancer la CPAM');
      const note = 'Relancé par téléphone, '.repeat(14).trim();
      expect(note.length).toBeGreaterThan(280);
      const res = await post(worker, `/suivis/${id}`, {
        action: 'terminer',
        retour: `/personnes/${personId}`,
        note,
        version: '1',
      });
      expect(res.status).toBe(400);
      expect(
        res.text.includes(
          `<p id="fait-${id}-note-error" class="fr-error-text">Saisissez 280 caractères au plus (${note.length} saisis)</p>`,
        ),
      ).toBe(true);
      expect(inputValue(res.text, `fait-${id}-note`)).toBe(note);
      const row = await testKnex()('follow_ups').where({ id }).first();
      expect(row.status).toBe('open');
      expect(row.completion_note_enc).toBeNull();
    });

    it('when a form sends a version that is not one, then 400 and nothing changes', async () => {
      const id = await plan('Écrire à la CAF');
      const res = await post(worker, `/suivis/${id}`, {
        action: 'terminer',
        retour: '/',
        version: 'abc',
      });
      expect(res.status).toBe(400);
      expect(res.text.includes('Le formulaire contient une erreur')).toBe(true);
      expect((await testKnex()('follow_ups').where({ id }).first()).status).toBe('open');
    });

    it('when a follow-up marked done is taken back from the message, then the undo carries the version it was done at', async () => {
      const id = await plan('Prendre RDV à la PMI');
      const done = await post(worker, `/suivis/${id}`, {
        action: 'terminer',
        retour: '/',
        version: '1',
      });
      expect(done.status).toBe(303);
      const after = await worker.get('/');
      expect(formVersion(after.text, `/suivis/${id}`, 'rouvrir')).toBe('2');
      const undo = await post(worker, `/suivis/${id}`, {
        action: 'rouvrir',
        retour: '/',
        version: '2',
      });
      expect(undo.status).toBe(303);
      expect((await testKnex()('follow_ups').where({ id }).first()).status).toBe('open');
    });
  });
});
