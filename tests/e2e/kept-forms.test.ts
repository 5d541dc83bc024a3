import { createTestContext, DEFAULT_PASSWORD, loginAs, type TestContext } from '../setup/context';
import { agentSessionId, endSession } from '../setup/sessions';
import {
  createFoodBank,
  createPerson,
  giveConsent,
  refer,
  type Agent,
} from '../integration/referrals/helpers';
import { createTeam } from '../setup/factories';
import { csrfOf, inputValue, textareaValue, versionOf } from './html';

/**
 * Each page whose form a social worker types in the street, sent after the session ended: after
 * signing in again, the page comes back with its form filled with what was typed.
 */
describe('forms kept when the session ended, given back filled by their page', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    personId = (await createPerson(await loginAs(ctx.app, team.worker.email))).id;
  });
  afterAll(async () => ctx.close());

  /** Ends the agent's server session as the idle timeout would. */
  async function expire(agent: Agent) {
    expect(await endSession(agentSessionId(agent))).toBe(1);
  }

  /**
   * Opens `page`, lets the session end, posts `fields` to `action` from it, signs in again on the
   * login page it leads to, and returns the page it then leads back to.
   */
  async function typedThenExpired(page: string, action: string, fields: Record<string, string>) {
    const agent = await loginAs(ctx.app, team.worker.email);
    const shown = await agent.get(page);
    expect(shown.status).toBe(200);
    await expire(agent);
    const refused = await agent
      .post(action)
      .set('Referer', `${ctx.config.publicUrl}${page}`)
      .type('form')
      .send({ _csrf: csrfOf(shown.text), ...fields });
    expect(refused.status).toBe(303);
    const login = await agent.get(refused.headers.location);
    expect(login.text).toContain('ce que vous aviez saisi est conservé');
    const signedIn = await agent
      .post('/connexion')
      .type('form')
      .send({
        _csrf: csrfOf(login.text),
        email: team.worker.email,
        password: DEFAULT_PASSWORD,
        retour: page,
      });
    expect(signedIn.headers.location).toBe(page);
    const back = await agent.get(page);
    expect(back.status).toBe(200);
    expect(back.text).toContain('Ce que vous aviez saisi est remis dans le formulaire');
    return { agent, shown, back };
  }

  it('when a contact with a private note is sent after the session ended, then its summary comes back but not the private note: whoever signs in next on that browser may not be its author', async () => {
    const { back } = await typedThenExpired(
      `/personnes/${personId}`,
      `/personnes/${personId}/contacts`,
      {
        channel: 'phone',
        outcome: 'reached',
        occurredAt: '2026-11-20T10:00',
        summary: 'Rendez-vous pris à la CAF',
        privateNote: 'Semble inquiet pour son fils',
      },
    );
    expect(textareaValue(back.text, 'contact-summary')).toBe('Rendez-vous pris à la CAF');
    expect(back.text).not.toContain('Semble inquiet pour son fils');
  });

  it('when a follow-up is planned from the file, then the file’s plan form comes back filled', async () => {
    const { back } = await typedThenExpired(
      `/personnes/${personId}`,
      `/personnes/${personId}/suivis`,
      { title: 'Accompagner à la CAF', dueAt: '2026-12-01T09:30' },
    );
    expect(inputValue(back.text, 'suivi-title')).toBe('Accompagner à la CAF');
    expect(inputValue(back.text, 'suivi-dueAt')).toBe('2026-12-01T09:30');
    expect(back.text).toContain('href="#planifier-suivi"');
  });

  it('when a follow-up is marked done with a note from "Mes actions", then its note comes back in its form', async () => {
    const worker = await loginAs(ctx.app, team.worker.email);
    const planned = await worker
      .post(`/api/persons/${personId}/follow-ups`)
      .send({ title: 'Rappeler la mairie', dueAt: '2030-01-07T09:00:00+01:00' });
    expect(planned.status).toBe(201);
    const id = planned.body.id as string;
    const { back } = await typedThenExpired('/', `/suivis/${id}`, {
      action: 'terminer',
      retour: '/',
      note: 'Appelée, rendez-vous lundi',
      version: '1',
    });
    expect(inputValue(back.text, `fait-${id}-note`)).toBe('Appelée, rendez-vous lundi');
    expect(back.text).toContain(`href="#suivi-${id}"`);
  });

  it('when a right is tracked from the file, then the form adding a right comes back open and filled', async () => {
    const { back } = await typedThenExpired(
      `/personnes/${personId}`,
      `/personnes/${personId}/droits`,
      { version: '0', code: 'rsa', status: 'claim_in_progress', note: 'Dossier déposé en mairie' },
    );
    expect(back.text).toContain('<details open id="suivre-droit">');
    expect(textareaValue(back.text, 'suivre-droit-note')).toBe('Dossier déposé en mairie');
    expect(back.text).toMatch(/<option value="rsa" selected/);
  });

  it('when a person is created from the intake form, then the intake form comes back filled', async () => {
    const { back } = await typedThenExpired('/personnes/nouvelle', '/personnes/nouvelle', {
      alias: 'Homme au chien, parvis',
      source: 'outreach',
      situation: 'Dort dehors depuis l’été',
    });
    expect(inputValue(back.text, 'alias')).toBe('Homme au chien, parvis');
    expect(textareaValue(back.text, 'situation')).toBe('Dort dehors depuis l’été');
  });

  it('when a referral is asked from the file’s referral page, then its form comes back filled', async () => {
    const { partner } = await createFoodBank('Épicerie du port');
    const page = `/personnes/${personId}/orientations`;
    const { back } = await typedThenExpired(page, page, {
      partnerId: partner.id,
      reason: 'Besoin de colis cette semaine',
      sharedSummary: 'Deux enfants',
    });
    expect(
      textareaValue(back.text, 'referral-reason') ?? inputValue(back.text, 'referral-reason'),
    ).toBe('Besoin de colis cette semaine');
    expect(back.text).toContain('Deux enfants');
  });

  it('when a referral is cancelled with a reason, then the move’s form comes back filled while the referral is unchanged', async () => {
    const worker = await loginAs(ctx.app, team.worker.email);
    const { partner } = await createFoodBank('Restos du quartier');
    const person = await createPerson(worker, { firstName: 'Louise' });
    await giveConsent(worker, person.id, partner.id);
    const referral = await refer(worker, person.id, partner.id);
    expect(referral.status).toBe(201);
    const page = `/orientations/${referral.body.id}`;
    const version = versionOf((await worker.get(page)).text);
    const { back } = await typedThenExpired(page, `${page}/transition`, {
      to: 'cancelled',
      reason: 'La personne a trouvé une autre aide',
      version,
    });
    expect(inputValue(back.text, 'move-cancelled-reason')).toBe(
      'La personne a trouvé une autre aide',
    );
    expect(back.text).toContain('href="#actions"');
  });
});
