import type { Browser, Page } from 'playwright-core';
import { processDeadline } from '../../jobs/processor';
import { processors } from '../../jobs/registry';
import { startDeadlineWorker, type DeadlineWorker } from '../../jobs/runtime';
import { REFERRAL_ASK_OUTCOME } from '../../server/features/referrals/referral-schemas';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam, createUser } from '../setup/factories';
import { waitFor } from '../integration/deadlines/helpers';
import { linkIn, startSmtp } from '../integration/referrals/smtp';
import {
  createPerson,
  giveConsent,
  refer,
  referralWorld,
  type Agent,
} from '../integration/referrals/helpers';
import { shiftedClock } from '../../server/lib/clock';
import {
  atPath,
  checkPage,
  focusIsOn,
  launchChromium,
  newPage as openPage,
  see,
  serve,
  type Served,
  signIn,
} from './browser';

/**
 * The closed loop in a real browser (Debian's Chromium, headless): a worker records consent and
 * refers to the food bank, the partner answers through the emailed link without an account, the
 * worker sees the answer, and a partner of another organisation gets a 404.
 */
describe('closed-loop referral in the browser', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let worker: DeadlineWorker;
  let served: Served;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    smtp = await startSmtp();
    // Partner emails leave in working hours only: the journey happens on a Tuesday morning.
    ctx = await createTestContext({
      env: { SMTP_URL: smtp.url },
      clock: shiftedClock('2026-11-24T10:00:00+01:00'),
    });
    worker = await startDeadlineWorker(ctx.deps);
    served = await serve(ctx.app);
    base = served.base;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await worker?.close();
    await ctx?.close();
    await smtp?.close();
  });

  function newPage(): Promise<Page> {
    return openPage(browser);
  }

  async function logIn(page: Page, email: string) {
    await signIn(page, `${base}/connexion`, email);
    await page.waitForURL((u) => u.pathname !== '/connexion', { timeout: 10000 });
  }

  it('worker records consent and refers; the partner accepts by the emailed link; the worker is notified; another partner gets 404', async () => {
    const team = await createTeam();
    const food = await createPartner(testKnex(), 'Banque alimentaire');
    await testKnex()('partner_services').insert({
      partner_id: food.id,
      name: 'Colis alimentaires',
      themes: ['equipement-et-alimentation--alimentation'],
    });
    const other = await createPartner(testKnex(), 'Jardin de Cocagne');
    const outsider = await createUser(team.structure.id, 'partner', { partnerId: other.id });
    const [person] = await testKnex()('persons')
      .insert({
        structure_id: team.structure.id,
        alias: 'Dame au chien, gare',
        source: 'outreach',
        referent_id: team.worker.id,
      })
      .returning('id');

    const page = await newPage();
    await logIn(page, team.worker.email);
    await page.goto(`${base}/personnes/${person.id}`);
    await page.getByRole('link', { name: 'Orientations et consentements' }).click();
    await atPath(page, `/personnes/${person.id}/orientations`);

    // Without consent the referral is refused with a clear message next to the partner, and
    // what was typed stays.
    await page.locator('#referral-partnerId').selectOption(food.id);
    await page.locator('#referral-reason').fill('Besoin alimentaire urgent');
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page
      .locator('#referral-partnerId-error')
      .getByText('n’a pas donné son accord')
      .waitFor({ timeout: 10000 });
    expect(await page.locator('#referral-reason').inputValue()).toBe('Besoin alimentaire urgent');
    await checkPage(page, 'o1-orientations-sans-consentement');

    await page.locator('#consent-partnerId').selectOption(food.id);
    await page.locator('label[for="consent-sharedFields-phone"]').click();
    await page.getByRole('button', { name: 'Enregistrer le consentement' }).click();
    await page.getByText('Consentement enregistré.').waitFor({ timeout: 10000 });

    await page.locator('#referral-partnerId').selectOption(food.id);
    await page.locator('#referral-reason').fill('Besoin alimentaire urgent');
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.getByText('Demande envoyée au partenaire.').waitFor({ timeout: 10000 });
    await checkPage(page, 'o2-orientations-demande-envoyee');
    const referral = await testKnex()('referrals').where({ person_id: person.id }).first();

    const [email] = await smtp.waitFor(1);
    expect(email.to).toEqual([food.email]);
    const link = linkIn(email);

    // The partner has no account: the link opens the answer page.
    const partnerPage = await newPage();
    await partnerPage.goto(`${base}${link.path}`);
    await partnerPage.getByText('Dame au chien, gare').waitFor({ timeout: 10000 });
    await checkPage(partnerPage, 'o3-lien-reponse-partenaire');
    await partnerPage.getByRole('button', { name: 'Accepter la demande' }).click();
    await partnerPage.getByText('Merci, votre réponse est enregistrée').waitFor({ timeout: 10000 });
    await checkPage(partnerPage, 'o4-lien-reponse-enregistree');

    await page.goto(`${base}/notifications`);
    await checkPage(page, 'o5-notifications-reponse');
    // The notification leads to the referral and its history.
    await page.getByRole('link', { name: 'Orientation acceptée par Banque alimentaire' }).click();
    await atPath(page, `/orientations/${referral.id}`);
    await page.getByText('par le partenaire (lien)').waitFor({ timeout: 10000 });
    await checkPage(page, 'o6-orientation-historique');

    // A partner user of the food bank finds it in the inbox page, with the person's alias only.
    const member = await createUser(team.structure.id, 'partner', { partnerId: food.id });
    const memberPage = await newPage();
    await logIn(memberPage, member.email);
    await memberPage.goto(`${base}/orientations`);
    await memberPage.getByRole('link', { name: /Dame au chien, gare/ }).waitFor({ timeout: 10000 });
    await checkPage(memberPage, 'o7-boite-partenaire');

    const outsiderPage = await newPage();
    await logIn(outsiderPage, outsider.email);
    const res = await outsiderPage.goto(`${base}/orientations/${referral.id}`);
    expect(res?.status()).toBe(404);
  }, 90000);

  it('when a worker sends the referral form empty, then the browser lets it through and the page comes back with the French summary focused and "Erreur" in its title', async () => {
    const w = await referralWorld(ctx.app);
    const person = await createPerson(w.agents.worker);
    const page = await newPage();
    await logIn(page, w.team.worker.email);
    await page.goto(`${base}/personnes/${person.id}/orientations`);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await see(page.locator('.av-error-summary'), 'Motif de l’orientation', 'referral-empty');
    expect(await focusIsOn(page, '.av-error-summary:has(a[href="#referral-reason"])')).toBe(true);
    expect(await page.title()).toMatch(/^Erreur — Orientations — /);
    await checkPage(page, 'orientation-formulaire-vide');
  }, 60000);

  /** A referral the food bank accepted, and the path of its emailed outcome link. */
  async function acceptedWithOutcomeLink(w: Awaited<ReturnType<typeof referralWorld>>) {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
    const accepted = await w.agents.partner
      .post(`/api/referrals/${id}/transitions`)
      .send({ to: 'accepted' });
    expect(accepted.status).toBe(200);
    // The question falls due ten business days later: sent now, as the worker would then.
    const d = await testKnex()('deadlines')
      .where({ subject_id: id, kind: REFERRAL_ASK_OUTCOME })
      .first('id');
    expect(await processDeadline(ctx.deps, processors, REFERRAL_ASK_OUTCOME, d.id)).toBe('done');
    // The running worker sends the first request meanwhile: the question is told by its id.
    const email = await waitFor(
      async () => smtp.received.find((e) => e.messageId.includes(d.id)),
      'the outcome question',
    );
    return { id, path: linkIn(email).path };
  }

  it('when the partner types why the help failed and presses Enter on the outcome link, then the referral is failed with that reason, never completed', async () => {
    const w = await referralWorld(ctx.app);
    const { id, path } = await acceptedWithOutcomeLink(w);

    const page = await newPage();
    await page.goto(`${base}${path}`);
    await see(page.locator('h1'), "Demande d'orientation", 'outcome-link');
    await checkPage(page, 'o8-lien-resultat-partenaire');
    const reason = page.getByLabel(/Raison de l'échec/);
    await reason.fill('Personne injoignable depuis trois semaines');
    await reason.press('Enter');
    await see(page.locator('body'), 'Merci, votre réponse est enregistrée', 'outcome-enter');

    const after = (await w.agents.worker.get(`/api/referrals/${id}`)).body;
    expect(after.status).toBe('failed');
    expect(after.events.at(-1)).toMatchObject({
      toStatus: 'failed',
      actorKind: 'link',
      note: 'Personne injoignable depuis trois semaines',
    });
  }, 90000);

  it('when the partner says the help failed without saying why, then the page comes back with the outcome typed, the reason marked and described, and passes axe', async () => {
    const w = await referralWorld(ctx.app);
    const { id, path } = await acceptedWithOutcomeLink(w);

    const page = await newPage();
    await page.goto(`${base}${path}`);
    await page.locator('#fail-outcome').fill('Rendez-vous manqué deux fois');
    await page.getByRole('button', { name: "Non, elle n'a pas pu l'être" }).click();
    await see(page.getByRole('alert'), "Raison de l'échec", 'outcome-no-reason');
    expect(await page.title()).toMatch(/^Erreur — /);
    expect(await page.locator('#fail-outcome').inputValue()).toBe('Rendez-vous manqué deux fois');
    const reason = page.locator('#fail-reason');
    expect(await reason.getAttribute('aria-invalid')).toBe('true');
    expect(
      await page.locator(`#${await reason.getAttribute('aria-describedby')}`).textContent(),
    ).toBe("Indiquez la raison pour laquelle l'aide n'a pas pu être apportée");
    await checkPage(page, 'o9-lien-resultat-erreur');
    expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('accepted');

    // The summary leads to the field; with the reason given, the answer goes through.
    await page.getByRole('link', { name: /Raison de l'échec/ }).click();
    await reason.fill('Personne injoignable');
    await page.getByRole('button', { name: "Non, elle n'a pas pu l'être" }).click();
    await see(page.locator('body'), 'Merci, votre réponse est enregistrée', 'outcome-fixed');
    expect((await w.agents.worker.get(`/api/referrals/${id}`)).body).toMatchObject({
      status: 'failed',
      outcome: 'Rendez-vous manqué deux fois',
    });
  }, 90000);

  it('a worker cancels, and a partner user rejects, from a page read before someone else moved the referral: the page says it changed, keeps what was typed, and passes axe', async () => {
    const w = await referralWorld(ctx.app);
    const freshReferral = async () => {
      const person = await createPerson(w.agents.worker);
      await giveConsent(w.agents.worker, person.id, w.food.partner.id);
      return (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
    };
    const accept = async (agent: Agent, id: string) =>
      expect(
        (await agent.post(`/api/referrals/${id}/transitions`).send({ to: 'accepted' })).status,
      ).toBe(200);
    const alert = (page: Page) => page.locator('.fr-alert--warning');

    // The requester types a cancellation while the partner accepts: the move is still offered,
    // so the typed reason waits in its field for a deliberate second click.
    const cancelled = await freshReferral();
    const page = await newPage();
    await logIn(page, w.team.worker.email);
    await page.goto(`${base}/orientations/${cancelled}`);
    await page.getByLabel('Raison (annuler la demande)').fill('La personne a déménagé');
    await accept(w.agents.partner, cancelled);
    await page.getByRole('button', { name: 'Annuler la demande' }).click();
    await see(
      alert(page),
      'Cette demande a été modifiée pendant que vous répondiez',
      'stale-cancel',
    );
    expect(await alert(page).textContent()).toContain('Son statut est maintenant : Acceptée');
    expect(await page.getByLabel('Raison (annuler la demande)').inputValue()).toBe(
      'La personne a déménagé',
    );
    await checkPage(page, 'orientation-modifiee-entre-temps');
    await page.getByRole('button', { name: 'Annuler la demande' }).click();
    await see(page.locator('body'), 'Demande mise à jour.', 'stale-cancel-again');
    expect((await w.agents.worker.get(`/api/referrals/${cancelled}`)).body.status).toBe(
      'cancelled',
    );

    // A partner user rejects while a colleague accepts: rejecting is no longer offered, and the
    // chosen reason is quoted.
    const rejected = await freshReferral();
    const partnerPage = await newPage();
    await logIn(partnerPage, w.users.p1.email);
    await partnerPage.goto(`${base}/orientations/${rejected}`);
    await partnerPage.getByLabel('Motif du refus').selectOption('no_capacity');
    await accept(w.agents.partner2, rejected);
    await partnerPage.getByRole('button', { name: 'Refuser' }).click();
    await see(alert(partnerPage), '« Refuser » n’est plus possible', 'stale-reject');
    expect(await alert(partnerPage).textContent()).toContain(
      'Motif du refus : Pas de place ou de capacité pour le moment',
    );
    await checkPage(partnerPage, 'orientation-modifiee-entre-temps-refus');
    expect((await w.agents.worker.get(`/api/referrals/${rejected}`)).body.status).toBe('accepted');
  }, 90000);
});
