import { parisDay } from '../../server/web/format';
import { REFERRAL_EMAIL_PARTNER } from '../../server/features/referrals/referral-schemas';
import { createTestContext, type TestContext } from '../setup/context';
import { countRows, testKnex } from '../setup/db';
import {
  createPerson,
  giveConsent,
  referralWorld,
  type Agent,
} from '../integration/referrals/helpers';
import { csrfOf } from './html';
import { createPartner } from '../setup/factories';

type World = Awaited<ReturnType<typeof referralWorld>>;

/** The one-time key of the page's form posting to `action`. */
function keyOf(html: string, action: string): string {
  const form = html.split('<form').find((f) => f.includes(`action="${action}"`));
  const key = /name="idempotencyKey" value="([^"]+)"/.exec(form ?? '')?.[1];
  if (!key) throw new Error(`no one-time key in the form posting to ${action}`);
  return key;
}

/** This Paris time `days` days from now, as a datetime-local field holds it. */
const dayAt = (days: number, hhmm: string) =>
  `${parisDay(new Date(Date.now() + days * 24 * 3600 * 1000))}T${hhmm}`;

/**
 * A creation form sent twice (a second tap on "Enregistrer" on a phone with a slow connection),
 * one after the other or both in flight: one object is made, and both answers are the first's.
 */
describe('creation forms sent twice', () => {
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

  /** The page's form posting to `action`, filled with `fields`: the body a browser sends. */
  async function formBody(agent: Agent, page: string, action: string, fields: object) {
    const html = (await agent.get(page)).text;
    return { _csrf: csrfOf(html), idempotencyKey: keyOf(html, action), ...fields };
  }
  const post = (agent: Agent, action: string, body: object) =>
    agent.post(action).type('form').send(body);

  /** The message the page shows after a redirect. */
  async function flashAfter(agent: Agent, location: string) {
    const page = await agent.get(location);
    return /class="fr-alert fr-alert--success[^"]*"[^>]*><p>([^<]*)<\/p>/.exec(page.text)?.[1];
  }

  const contactFields = {
    channel: 'street',
    outcome: 'reached',
    occurredAt: dayAt(0, '00:05'),
    summary: 'Rencontrée devant la gare',
    nextFollowUpAt: dayAt(2, '10:00'),
    nextFollowUpTitle: 'Rappeler pour le dossier CAF',
  };
  const contacts = () => countRows('contacts', { person_id: personId });
  const followUps = () => countRows('follow_ups', { person_id: personId });

  it('when the contact form is sent twice, then one contact and one next follow-up, and both answers lead to the file with the same message', async () => {
    const [c0, f0] = [await contacts(), await followUps()];
    const action = `/personnes/${personId}/contacts`;
    const body = await formBody(worker, `/personnes/${personId}`, action, contactFields);
    const first = await post(worker, action, body);
    expect(first.status).toBe(303);
    expect(await flashAfter(worker, first.headers.location)).toBe(
      'Le contact est enregistré et le prochain suivi est planifié.',
    );
    const again = await post(worker, action, body);
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(first.headers.location);
    expect(await flashAfter(worker, again.headers.location)).toBe(
      'Le contact est enregistré et le prochain suivi est planifié.',
    );
    expect(await contacts()).toBe(c0 + 1);
    expect(await followUps()).toBe(f0 + 1);
  });

  it('when the contact form is sent twice at once, then one contact and one next follow-up', async () => {
    const [c0, f0] = [await contacts(), await followUps()];
    const action = `/personnes/${personId}/contacts`;
    const body = await formBody(worker, `/personnes/${personId}`, action, contactFields);
    const both = await Promise.all([post(worker, action, body), post(worker, action, body)]);
    expect(both.map((r) => r.status)).toEqual([303, 303]);
    expect(await contacts()).toBe(c0 + 1);
    expect(await followUps()).toBe(f0 + 1);
  });

  it('when the page is shown twice, then each form has its own key: two contacts typed on two pages are two', async () => {
    const c0 = await contacts();
    const action = `/personnes/${personId}/contacts`;
    const one = await formBody(worker, `/personnes/${personId}`, action, contactFields);
    const two = await formBody(worker, `/personnes/${personId}`, action, contactFields);
    expect(two.idempotencyKey).not.toBe(one.idempotencyKey);
    expect((await post(worker, action, one)).status).toBe(303);
    expect((await post(worker, action, two)).status).toBe(303);
    expect(await contacts()).toBe(c0 + 2);
  });

  it('when a sent form comes back with other values (the back button), then 422 says so, keeps what was typed, and the form sent again makes the new contact', async () => {
    const action = `/personnes/${personId}/contacts`;
    const body = await formBody(worker, `/personnes/${personId}`, action, contactFields);
    expect((await post(worker, action, body)).status).toBe(303);
    const c0 = await contacts();
    const changed = await post(worker, action, { ...body, summary: 'Revue le lendemain' });
    expect(changed.status).toBe(422);
    expect(changed.text).toContain('Ce formulaire avait déjà été envoyé, avec d’autres valeurs');
    expect(changed.text).toContain('>Revue le lendemain</textarea>');
    expect(await contacts()).toBe(c0);
    const fresh = keyOf(changed.text, action);
    expect(fresh).not.toBe(body.idempotencyKey);
    const resent = await post(worker, action, {
      ...body,
      _csrf: csrfOf(changed.text),
      idempotencyKey: fresh,
      summary: 'Revue le lendemain',
    });
    expect(resent.status).toBe(303);
    expect(await contacts()).toBe(c0 + 1);
  });

  it('when the follow-up form is sent twice, then one follow-up', async () => {
    const f0 = await followUps();
    const action = `/personnes/${personId}/suivis`;
    const body = await formBody(worker, `/personnes/${personId}`, action, {
      title: 'Accompagner à la CPAM',
      dueAt: dayAt(3, '09:30'),
    });
    const [first, again] = [await post(worker, action, body), await post(worker, action, body)];
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(await followUps()).toBe(f0 + 1);
  });

  describe('a new person', () => {
    const persons = () => countRows('persons');

    it('when the intake is sent twice and nobody looks like the person, then one file, and the second answer leads to it (not to "Déjà connu·e ?")', async () => {
      const p0 = await persons();
      const body = await formBody(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
        alias: 'Jeune homme au chien, parvis de la gare',
        source: 'outreach',
      });
      const first = await post(worker, '/personnes/nouvelle', body);
      const again = await post(worker, '/personnes/nouvelle', body);
      expect(first.status).toBe(303);
      expect(again.status).toBe(303);
      expect(again.headers.location).toBe(first.headers.location);
      expect(await flashAfter(worker, again.headers.location)).toBe(
        'La personne est enregistrée. Notez maintenant le premier contact.',
      );
      expect(await persons()).toBe(p0 + 1);
    });

    it('when "Déjà connu·e ?" is answered twice (both posts carry the same mark), then one file', async () => {
      await createPerson(worker, { firstName: 'Hélène', lastName: 'Lefèvre', birthYear: 1962 });
      const typed = {
        firstName: 'Helene',
        lastName: 'Lefebvre',
        birthYear: '1962',
        source: 'outreach',
      };
      const asked = await post(
        worker,
        '/personnes/nouvelle',
        await formBody(worker, '/personnes/nouvelle', '/personnes/nouvelle', typed),
      );
      expect(asked.text).toContain('Déjà connu·e ?');
      const verifie = /name="verifie" value="([^"]+)"/.exec(asked.text)![1];
      const body = {
        _csrf: csrfOf(asked.text),
        idempotencyKey: keyOf(asked.text, '/personnes/nouvelle'),
        ...typed,
        verifie,
      };
      const p0 = await persons();
      const both = await Promise.all([
        post(worker, '/personnes/nouvelle', body),
        post(worker, '/personnes/nouvelle', body),
      ]);
      expect(both.map((r) => r.status)).toEqual([303, 303]);
      expect(both[1].headers.location).toBe(both[0].headers.location);
      const again = await post(worker, '/personnes/nouvelle', body);
      expect(again.headers.location).toBe(both[0].headers.location);
      expect(await persons()).toBe(p0 + 1);
    });
  });

  it('when the referral form is sent twice, and twice at once, then one referral each, and the partner is emailed once', async () => {
    const referrals = () => countRows('referrals', { person_id: personId });
    const r0 = await referrals();
    const action = `/personnes/${personId}/orientations`;
    const fields = { partnerId: w.food.partner.id, reason: 'Besoin alimentaire urgent' };
    const body = await formBody(worker, action, action, fields);
    const [first, again] = [await post(worker, action, body), await post(worker, action, body)];
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(await flashAfter(worker, again.headers.location)).toBe('Demande envoyée au partenaire.');
    const racing = await formBody(worker, action, action, fields);
    const both = await Promise.all([post(worker, action, racing), post(worker, action, racing)]);
    expect(both.map((r) => r.status)).toEqual([303, 303]);
    expect(await referrals()).toBe(r0 + 2);
    const ids = (await testKnex()('referrals').where({ person_id: personId })).map((r) => r.id);
    const emails = await testKnex()('deadlines')
      .where({ kind: REFERRAL_EMAIL_PARTNER })
      .whereIn('subject_id', ids);
    expect(emails).toHaveLength(r0 + 2);
  });

  it('when the consent form is sent twice, then one consent', async () => {
    const consents = () => countRows('consents', { person_id: personId });
    const k0 = await consents();
    const page = `/personnes/${personId}/orientations`;
    const action = `/personnes/${personId}/consentements`;
    const body = await formBody(worker, page, action, {
      partnerId: w.other.id,
      method: 'oral',
      givenAt: dayAt(0, '00:05'),
    });
    const [first, again] = [await post(worker, action, body), await post(worker, action, body)];
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(await consents()).toBe(k0 + 1);
  });

  it('when the letter form is sent twice, then one mail contact, and the same letter twice', async () => {
    const mails = () => countRows('contacts', { person_id: personId, channel: 'mail' });
    const m0 = await mails();
    const action = `/personnes/${personId}/courrier`;
    const body = await formBody(worker, action, action, {
      kind: 'call',
      phone: '02 41 05 49 49',
      hours: 'le mardi matin',
    });
    const [first, again] = [await post(worker, action, body), await post(worker, action, body)];
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers['content-type']).toBe('application/pdf');
    expect(await mails()).toBe(m0 + 1);
  });

  it('when a partner’s report is sent twice, then one report, and both answers give its receipt', async () => {
    const partner = w.agents.partner;
    const r0 = await countRows('reports');
    const body = await formBody(partner, '/orientations', '/orientations/signaler', {
      location: 'Parvis de la gare',
      concern: 'Dort dehors depuis une semaine',
    });
    const first = await post(partner, '/orientations/signaler', body);
    const firstFlash = await flashAfter(partner, first.headers.location);
    const again = await post(partner, '/orientations/signaler', body);
    expect(await flashAfter(partner, again.headers.location)).toBe(firstFlash);
    expect(firstFlash).toMatch(/^Signalement envoyé\. Numéro de reçu : \w{4}-\w{4}\.$/);
    expect(await countRows('reports')).toBe(r0 + 1);
  });

  it('when an admin’s form adding a partner or a district is sent twice, then one of each, and the second answer is the first’s (not "name taken")', async () => {
    const admin = w.agents.admin;
    const partners = () => countRows('partners', { name: 'Restos du cœur' });
    const partner = await formBody(admin, '/admin/partenaires', '/admin/partenaires', {
      name: 'Restos du cœur',
      email: 'contact@restos.test',
      serviceName: 'Repas',
      themes: 'equipement-et-alimentation',
    });
    const [first, again] = [
      await post(admin, '/admin/partenaires', partner),
      await post(admin, '/admin/partenaires', partner),
    ];
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(await flashAfter(admin, again.headers.location)).toBe('Partenaire ajouté.');
    expect(await partners()).toBe(1);
    const district = await formBody(admin, '/admin/quartiers', '/admin/quartiers', {
      name: 'Belle-Beille',
    });
    const both = await Promise.all([
      post(admin, '/admin/quartiers', district),
      post(admin, '/admin/quartiers', district),
    ]);
    expect(both.map((r) => r.status)).toEqual([303, 303]);
    expect(both[1].headers.location).toBe(both[0].headers.location);
    expect(await countRows('districts', { name: 'Belle-Beille' })).toBe(1);
  });

  it('when an admin’s invitation of a partner’s staff is sent twice, and twice at once, then one account each, and every answer is the invitation sent (not "address taken")', async () => {
    const admin = w.agents.admin;
    const partner = await createPartner(testKnex(), 'Épicerie solidaire', w.team.structure.id);
    const path = `/admin/partenaires/${partner.id}/comptes`;
    const accounts = (email: string) => countRows('users', { email });
    const body = await formBody(admin, path, path, {
      name: 'Bénévole',
      email: 'benevole@epicerie.test',
    });
    const [first, again] = [await post(admin, path, body), await post(admin, path, body)];
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(await flashAfter(admin, again.headers.location)).toBe(
      'Invitation envoyée à benevole@epicerie.test : le lien est valable 48 heures.',
    );
    expect(await accounts('benevole@epicerie.test')).toBe(1);
    const other = await formBody(admin, path, path, {
      name: 'Autre bénévole',
      email: 'autre@epicerie.test',
    });
    const both = await Promise.all([post(admin, path, other), post(admin, path, other)]);
    expect(both.map((r) => r.status)).toEqual([303, 303]);
    expect(await accounts('autre@epicerie.test')).toBe(1);
  });

  it('when a page is shown, then it loads the script that disables a creation form’s button once sent (the public report form’s too), served from this origin', async () => {
    const page = await worker.get(`/personnes/${personId}`);
    expect(page.text).toContain('<script src="/static/submit-once.js"></script>');
    // The public report form has no account to hold a key: the script still guards it.
    const report = await worker.get(`/signaler/${w.team.structure.slug}`);
    expect(report.text).toMatch(
      /<form method="post" action="\/signaler\/[^"]+" novalidate data-submit-once/,
    );
    expect(report.text).toContain('<script src="/static/submit-once.js"></script>');
    const script = await worker.get('/static/submit-once.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.text).toContain('idempotencyKey');
  });
});
