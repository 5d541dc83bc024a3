import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { binary, pdfTextOf } from '../../setup/pdf';
import { paris } from '../deadlines/time-machine';
import { createPerson, type Agent } from '../referrals/helpers';

/** Saturday 19 December 2026, 22:00 in Paris. */
const NOW = paris('2026-12-19T22:00:00');

describe('letters: a printable letter on the letterhead, logged as a mail contact', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let person: string;
  const clock = fixedClock(NOW);

  const letter = (agent: Agent, personId: string, body: Record<string, unknown>) =>
    agent.post(`/api/persons/${personId}/letters`).send(body).buffer(true).parse(binary);

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    await testKnex()('users').where({ id: team.worker.id }).update({ name: 'Léa Martin' });
    await testKnex()('structures').where({ id: team.structure.id }).update({ city: 'Angers' });
    worker = await loginAs(ctx.app, team.worker.email);
    const admin = await loginAs(ctx.app, team.admin.email);
    const s = await admin.get('/api/settings');
    const saved = await admin.patch('/api/settings').send({
      version: s.body.version,
      letterhead: {
        name: 'CCAS d’Angers — Maison des œuvres sociales',
        addressLines: ['Place Maurice-Saillant', '49100 Angers'],
        phone: '02 41 05 49 49',
        email: 'accueil@ccas-angers.fr',
      },
    });
    expect(saved.status).toBe(200);
    person = (
      await createPerson(worker, {
        firstName: 'Hélène',
        lastName: 'Bénard',
        address: '12 rue de la Roë\n49100 Angers',
      })
    ).id;
  });
  afterAll(async () => ctx.close());

  it('when a worker asks for a meeting letter, then a French PDF on the letterhead comes back, addressed to the person, and a mail contact is logged', async () => {
    const res = await letter(worker, person, {
      kind: 'meeting',
      at: '2027-01-08T10:30:00+01:00',
      place: 'Hôtel de ville, bureau 12 (près de l’accueil)',
    });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="courrier-2026-12-19.pdf"',
    );
    const { text, pages } = await pdfTextOf(res.body as Buffer);
    expect(pages).toBe(1);
    for (const part of [
      'CCAS d’Angers — Maison des œuvres sociales',
      'Place Maurice-Saillant 49100 Angers',
      'Téléphone : 02 41 05 49 49',
      'Courriel : accueil@ccas-angers.fr',
      'Hélène Bénard 12 rue de la Roë 49100 Angers',
      'Angers, le 19 décembre 2026',
      'Objet : Proposition de rendez-vous',
      'Madame, Monsieur,',
      'le vendredi 8 janvier 2027 à 10 h 30, à l’adresse suivante : Hôtel de ville, bureau 12 (près de l’accueil).',
      'appelez-nous au 02 41 05 49 49',
      'accompagné·e',
      'Léa Martin',
    ])
      expect(text).toContain(part);

    const contacts = await worker.get(`/api/persons/${person}/contacts`);
    expect(contacts.body.items).toEqual([
      expect.objectContaining({
        id: res.headers['x-contact-id'],
        channel: 'mail',
        outcome: 'not_reached',
        occurredAt: NOW.toISOString(),
        summary: expect.stringContaining('Courrier « Proposition de rendez-vous »'),
      }),
    ]);
    expect(
      await testKnex()('audit_events').where({ action: 'person.letter', subject_id: person }),
    ).toHaveLength(1);
  });

  it('when the letter is made at 00:30 on 1 January in Paris (23:30 UTC the day before), then its file name has the Paris date', async () => {
    clock.set('2026-12-31T23:30:00Z');
    try {
      const res = await letter(worker, person, {
        kind: 'meeting',
        at: '2027-01-08T10:30:00+01:00',
        place: 'Hôtel de ville, bureau 12',
      });
      expect(res.status).toBe(201);
      expect(res.headers['content-disposition']).toBe(
        'attachment; filename="courrier-2027-01-01.pdf"',
      );
    } finally {
      clock.set(NOW);
    }
  });

  it('when a letter gives a number to call, then the letterhead’s number is the default', async () => {
    const res = await letter(worker, person, {
      kind: 'call',
      hours: 'du lundi au vendredi, de 9 h à 12 h',
    });
    expect(res.status).toBe(201);
    const { text } = await pdfTextOf(res.body as Buffer);
    expect(text).toContain('Objet : Prenez contact avec nous');
    expect(text).toContain(
      'Vous pouvez nous appeler au 02 41 05 49 49, du lundi au vendredi, de 9 h à 12 h :',
    );
  });

  it('when the person has no postal address, then 422 with a French message and nothing is logged', async () => {
    const homeless = await createPerson(worker, { address: null, alias: 'Homme au chien' });
    const res = await worker
      .post(`/api/persons/${homeless.id}/letters`)
      .send({ kind: 'call', phone: '06 00 00 00 00' });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: 'no_postal_address',
      message:
        'Cette personne n’a pas d’adresse postale : ajoutez-la à sa fiche avant de lui écrire.',
    });
    expect(await testKnex()('contacts').where({ person_id: homeless.id })).toEqual([]);
  });

  it('when the person has an address but neither first nor last name, then 422 no_recipient_name: the alias, a description for staff, is never printed, and nothing is logged', async () => {
    const aliasOnly = await createPerson(worker, {
      alias: 'Homme au chien, parvis de la médiathèque',
      firstName: null,
      lastName: null,
      address: '3 rue des Lices\n49100 Angers',
    });
    const res = await worker
      .post(`/api/persons/${aliasOnly.id}/letters`)
      .send({ kind: 'call', phone: '06 00 00 00 00' });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: 'no_recipient_name',
      message:
        'Cette personne n’a ni prénom ni nom : ajoutez-en un à sa fiche avant de lui écrire (son surnom ne figure pas sur un courrier).',
    });
    expect(await testKnex()('contacts').where({ person_id: aliasOnly.id })).toEqual([]);
    expect(
      await testKnex()('audit_events').where({ action: 'person.letter', subject_id: aliasOnly.id }),
    ).toEqual([]);
  });

  it('when the person has a last name only, then the letter is addressed to it, without the alias', async () => {
    const named = await createPerson(worker, {
      alias: 'Homme au chien',
      firstName: null,
      lastName: 'Moreau',
      address: '3 rue des Lices\n49100 Angers',
    });
    const res = await letter(worker, named.id, { kind: 'call' });
    expect(res.status).toBe(201);
    const { text } = await pdfTextOf(res.body as Buffer);
    expect(text).toContain('Moreau 3 rue des Lices 49100 Angers');
    expect(text).not.toContain('Homme au chien');
  });

  it('when the input is wrong, then 400 naming the field, never a 500', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'visit' }, 'kind'],
      [{ kind: 'meeting', place: 'Mairie' }, 'at'],
      [{ kind: 'meeting', at: '2026-12-01T10:00:00+01:00', place: 'Mairie' }, 'at'],
      [{ kind: 'meeting', at: '2027-01-08T10:30:00+01:00', place: '' }, 'place'],
      [{ kind: 'call', phone: 'appelez-nous' }, 'phone'],
      [{ kind: 'call', phone: '0600000000', extra: 1 }, ''],
      [{ kind: 'meeting', at: '2027-01-08T10:30:00+01:00', place: 'a\u0000b' }, 'place'],
    ];
    for (const [body, field] of cases) {
      const res = await worker.post(`/api/persons/${person}/letters`).send(body);
      expect([res.status, body]).toEqual([400, body]);
      const fields = (res.body.error.details ?? []).map((d: { field: string }) => d.field);
      if (field) expect(fields).toContain(field);
    }
  });

  it('when the letterhead has no phone and none is given for a call, then 400 naming phone', async () => {
    const other = await createTeam();
    const w = await loginAs(ctx.app, other.worker.email);
    const p = await createPerson(w);
    const res = await w.post(`/api/persons/${p.id}/letters`).send({ kind: 'call' });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('phone');
  });

  it('when the person is of another structure, then 404; observers and admins get 403', async () => {
    const other = await createTeam();
    const outsider = await loginAs(ctx.app, other.worker.email);
    const res = await outsider
      .post(`/api/persons/${person}/letters`)
      .send({ kind: 'call', phone: '0600000000' });
    expect(res.status).toBe(404);
    for (const email of [team.observer.email, team.admin.email]) {
      const agent = await loginAs(ctx.app, email);
      const r = await agent
        .post(`/api/persons/${person}/letters`)
        .send({ kind: 'call', phone: '0600000000' });
      expect(r.status).toBe(403);
    }
  });
});
