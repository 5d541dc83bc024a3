import type { Browser, Page } from 'playwright-core';
import { createNotificationRepository } from '../../server/features/notifications/notification-repository';
import { parisDay } from '../../server/web/format';
import { createTestContext, DEFAULT_PASSWORD, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { endSession, sessionIdOf } from '../setup/sessions';
import { createTeam } from '../setup/factories';
import {
  atPath,
  checkPage as check,
  countBecomes,
  focusIsOn,
  launchChromium,
  newPage as openPage,
  noScriptTwin,
  see,
  serve,
  tabTo,
  writeAxeLog,
  type AxeRecord,
  type Served,
} from './browser';

const notificationRepository = createNotificationRepository();

/**
 * The Paris day 48 hours from now (YYYY-MM-DD): after today's whatever the hour, so the
 * follow-ups planned on it are "À venir" (24 hours was still today in the first hour of the day
 * the clocks go back, or once the run had crossed midnight).
 */
const dueDay = () => parisDay(new Date(Date.now() + 48 * 3600 * 1000));

/**
 * The first journey in a real browser, against the real app. Each page is checked with axe and
 * photographed under test-output/; with UPDATE_SCREENSHOTS=1 the README screenshots in
 * docs/screenshots/ are rewritten too.
 */
describe('first journey in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let base: string;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  /** Console errors and failed requests: a CSP violation or a missing asset shows up here. */
  const problems: string[] = [];
  const axeLog: AxeRecord[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    other = await createTeam();
    await testKnex()('users').where({ id: team.worker.id }).update({ name: 'Camille Martin' });
    served = await serve(ctx.app);
    base = served.base;
    browser = await launchChromium();
  });

  beforeEach(() => {
    problems.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
    writeAxeLog(axeLog);
  });

  function newPage(width?: number, height?: number, javaScriptEnabled = true): Promise<Page> {
    return openPage(browser, { width, height, problems, javaScriptEnabled });
  }

  function checkPage(page: Page, name: string, docs?: string): Promise<void> {
    return check(page, name, { docs, log: axeLog });
  }

  /** axe and a screenshot of what this JavaScript-less page shows (see noScriptTwin). */
  async function checkNoScript(page: Page, name: string) {
    const size = page.viewportSize()!;
    const twin = await noScriptTwin(browser, page, page.url(), { ...size, problems });
    expect(await twin.getAttribute('html', 'data-fr-js')).toBeNull();
    await checkPage(twin, name);
    await twin.context().close();
  }

  /** A person recorded by a colleague, opened in a fresh page by worker2 after logging in. */
  async function openNewPerson(alias: string) {
    const [person] = await testKnex()('persons')
      .insert({ structure_id: team.structure.id, alias, source: 'outreach' })
      .returning('id');
    const page = await newPage();
    await page.goto(`${base}/personnes/${person.id}`);
    await logIn(page, team.worker2.email);
    await see(page.getByRole('heading', { level: 1 }), alias);
    return { page, person: person as { id: string } };
  }

  async function logIn(page: Page, email: string) {
    await page.getByLabel('Adresse électronique').fill(email);
    await page.getByLabel('Mot de passe').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
  }

  it('a worker logs in, records a person by alias, logs two contacts, plans a follow-up and completes it from Mes actions', async () => {
    const page = await newPage();

    // Not signed in: the person pages send to the login page.
    await page.goto(`${base}/personnes`);
    await atPath(page, '/connexion');
    await see(page.getByRole('heading', { level: 1 }), 'Connexion à aller-vers');
    const marianne = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    expect(marianne).toContain('Marianne'); // the DSFR stylesheet and fonts are served
    await checkPage(page, '01-connexion');

    await logIn(page, team.worker.email);
    await atPath(page, '/personnes');
    await page.getByRole('link', { name: 'Mes actions' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Mes actions');
    await checkPage(page, '02-mes-actions-vide');

    // Quick intake, first with mistakes: the typed values stay and each error sits by its field.
    await page.getByRole('link', { name: 'Nouvelle personne' }).first().click();
    await see(page.getByRole('heading', { level: 1 }), 'Nouvelle personne');
    await checkPage(page, '03-nouvelle-personne');
    await page.getByLabel('Année de naissance').fill('soixante');
    await page.getByLabel('Situation').fill('Dort sous le pont de la Basse-Chaîne');
    await page.getByRole('button', { name: 'Enregistrer la personne' }).click();
    await see(page.getByRole('alert'), 'Le formulaire contient 2 erreurs');
    // The focus lands on the error summary, so a keyboard or screen reader user starts there.
    expect(await focusIsOn(page, '[role="alert"].av-error-summary')).toBe(true);
    const alias = page.getByLabel('Surnom ou description');
    expect(await alias.getAttribute('aria-invalid')).toBe('true');
    await see(page.locator('#alias-error'), 'Indiquez un surnom, une courte description ou un nom');
    await see(
      page.locator('#birthYear-error'),
      'Indiquez une année sur 4 chiffres, par exemple 1975',
    );
    expect(await page.getByLabel('Année de naissance').inputValue()).toBe('soixante');
    expect(await page.getByLabel('Situation').inputValue()).toBe(
      'Dort sous le pont de la Basse-Chaîne',
    );
    await checkPage(page, '04-nouvelle-personne-erreurs');

    await alias.fill('Homme ~50 ans, parvis de la médiathèque');
    await page.getByLabel('Année de naissance').fill('1975');
    await page.getByRole('button', { name: 'Enregistrer la personne' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Homme ~50 ans, parvis de la médiathèque');
    await see(page.getByRole('status'), 'La personne est enregistrée');
    const personPath = new URL(page.url()).pathname;
    expect(personPath).toMatch(/^\/personnes\/[0-9a-f-]{36}$/);

    // Two contacts: not reached in the street, then reached by phone.
    await page.getByLabel('Canal').selectOption({ label: 'Rue' });
    await page.getByLabel('Résultat').selectOption({ label: 'Non joint(e)' });
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    await see(page.getByRole('status'), 'Le contact est enregistré.');
    // Said first in the title too: read on arrival, where the message's live region may not be.
    expect(await page.title()).toBe(
      'Le contact est enregistré — Homme ~50 ans, parvis de la médiathèque — aller-vers',
    );

    await page.getByLabel('Canal').selectOption({ label: 'Téléphone' });
    await page.getByLabel('Résultat').selectOption({ label: 'Joint(e)' });
    await page.getByLabel('Résumé').fill('Accepte de venir à l’accueil du CCAS.');
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    // The previous page says "Le contact est enregistré." too: wait for the second contact.
    await countBecomes(page.locator('.av-timeline > li'), 2);
    await see(page.getByRole('status'), 'Le contact est enregistré.');
    await see(page.locator('main'), 'En contact');
    await see(page.locator('main'), 'Contact · Téléphone · Joint(e)');

    // Plan a follow-up for the day after tomorrow, in the morning (Paris time).
    const day = dueDay();
    await page.getByLabel('Action à faire').fill('Accompagner au rendez-vous CAF');
    await page.getByLabel('À faire le').fill(`${day}T09:30`);
    await page.getByRole('button', { name: 'Planifier le suivi' }).click();
    await see(page.getByRole('status'), 'Le suivi est planifié');
    await see(page.locator('#suivis-en-cours'), 'Suivis en cours (1)');
    await see(page.locator('main'), '09:30');
    await checkPage(page, '05-fiche-personne', 'fiche-personne');

    // A notification about this person, as the deadline worker would write it.
    await notificationRepository.insertOnce(testKnex(), {
      structureId: team.structure.id,
      recipientId: team.worker.id,
      kind: 'follow_up.due',
      subjectType: 'follow_up',
      subjectId: personPath.split('/')[2],
      dueMoment: new Date(),
      title: 'Suivi à faire : Relancer la personne',
      link: personPath,
    });

    // Mes actions shows it; completing it there removes it.
    await page.getByRole('link', { name: 'Mes actions' }).click();
    await see(page.locator('main'), 'Accompagner au rendez-vous CAF');
    await see(page.locator('#a-venir'), 'À venir (1)');
    await see(page.getByRole('navigation', { name: 'Menu principal' }), '1 non lue');
    await checkPage(page, '06-mes-actions', 'mes-actions');
    await page
      .getByRole('button', { name: 'Marquer comme fait : Accompagner au rendez-vous CAF' })
      .click();
    await see(page.getByRole('status'), 'marqué comme fait');
    await see(page.locator('#a-venir'), 'À venir (0)');

    // The person list finds them by a misspelt, accent-free search.
    await page.getByRole('link', { name: 'Personnes', exact: true }).click();
    await page.getByLabel('Rechercher').fill('mediateque');
    await page.getByRole('button', { name: 'Filtrer' }).click();
    await see(page.locator('main'), '1 personne trouvée');
    // The search went by POST: the address holds no search term.
    expect(page.url()).toBe(`${base}/personnes`);
    await checkPage(page, '07-personnes');
    // An old link with a search in its address: the list, and a word by the search field.
    await page.goto(`${base}/personnes?q=mediateque`);
    await see(page.locator('#q-error'), 'Cette adresse de recherche n’est plus valable');
    await checkPage(page, '07b-personnes-ancien-lien');

    await page.getByRole('link', { name: /Notifications/ }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Notifications');
    await checkPage(page, '08-notifications');
    await page
      .getByRole('button', { name: 'Marquer comme lue : Suivi à faire : Relancer la personne' })
      .click();
    await see(page.locator('main'), 'Tout est lu.');

    // The person file on a phone-sized screen, without horizontal scrolling.
    const phone = await newPage(375, 740);
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${base}${personPath}`);
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await checkPage(phone, '09-fiche-personne-mobile');

    // A worker of another structure gets the 404 page on that URL.
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await atPath(page, '/connexion');
    await page.goto(`${base}${personPath}`);
    await logIn(page, other.worker.email);
    await atPath(page, personPath);
    await see(page.getByRole('heading', { level: 1 }), 'Page introuvable');
    expect(await page.locator('main').textContent()).not.toContain('médiathèque');
    await checkPage(page, '10-page-introuvable');

    expect(problems).toEqual([]);
  }, 120000);

  it('on the person file, a refused contact or plan keeps what was typed; a follow-up is rescheduled, then completed there', async () => {
    const { page } = await openNewPerson('Homme au chien, quai');

    // A contact without its outcome: the message sits by the field, the rest stays typed.
    await page.getByLabel('Canal').selectOption({ label: 'Téléphone' });
    await page.getByLabel('Résumé').fill('A rappelé depuis la cabine');
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    await see(page.getByRole('alert'), 'Le formulaire contient une erreur');
    await see(page.locator('#contact-outcome-error'), 'Choisissez le résultat du contact');
    expect(await focusIsOn(page, '.av-error-summary:has(a[href="#contact-outcome"])')).toBe(true);
    expect(await page.getByLabel('Canal').inputValue()).toBe('phone');
    expect(await page.getByLabel('Résumé').inputValue()).toBe('A rappelé depuis la cabine');
    await checkPage(page, '14-fiche-contact-erreur');
    await page.getByLabel('Résultat').selectOption({ label: 'Joint(e)' });
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    await see(page.getByRole('status'), 'Le contact est enregistré.');

    // A plan without its title: the date stays, the message sits by the title.
    const day = dueDay();
    await page.getByLabel('À faire le').fill(`${day}T10:00`);
    await page.getByRole('button', { name: 'Planifier le suivi' }).click();
    await see(page.locator('#suivi-title-error'), 'Indiquez l’action à faire');
    expect(await focusIsOn(page, '.av-error-summary:has(a[href="#suivi-title"])')).toBe(true);
    expect(await page.getByLabel('À faire le').inputValue()).toBe(`${day}T10:00`);
    await checkPage(page, '15-fiche-suivi-erreur');
    await page.getByLabel('Action à faire').fill('Aller à la CAF ensemble');
    await page.getByRole('button', { name: 'Planifier le suivi' }).click();
    await see(page.getByRole('status'), 'Le suivi est planifié');

    // Reschedule it to the afternoon, then mark it as done, both from the file.
    await page.getByLabel('Nouvelle date pour « Aller à la CAF ensemble »').fill(`${day}T16:45`);
    await page.getByRole('button', { name: 'Reporter : Aller à la CAF ensemble' }).click();
    await see(page.getByRole('status'), 'Suivi « Aller à la CAF ensemble » reporté.');
    await see(page.locator('section[aria-labelledby="suivis-en-cours"]'), '16:45');
    await page
      .getByRole('button', { name: 'Marquer comme fait : Aller à la CAF ensemble' })
      .click();
    await see(page.getByRole('status'), 'Suivi « Aller à la CAF ensemble » marqué comme fait.');
    await see(page.locator('#suivis-en-cours'), 'Suivis en cours (0)');
    await see(page.locator('.av-timeline'), 'Suivi · Aller à la CAF ensemble · Fait');
    expect(problems).toEqual([]);
  }, 60000);

  it('with the keyboard alone (Tab, Enter, Space) a worker logs in, records a person, logs a contact, plans and completes a follow-up, always seeing the focus', async () => {
    const page = await newPage();
    await page.goto(`${base}/connexion`);
    await tabTo(page, '#email');
    await page.keyboard.type(team.worker.email);
    await tabTo(page, '#password');
    await page.keyboard.type(DEFAULT_PASSWORD);
    await page.keyboard.press('Enter');
    await see(page.getByRole('heading', { level: 1 }), 'Mes actions');

    await tabTo(page, 'main a[href="/personnes/nouvelle"]');
    await page.keyboard.press('Enter');
    await see(page.getByRole('heading', { level: 1 }), 'Nouvelle personne');
    await tabTo(page, '#alias');
    await page.keyboard.type('Femme au manteau rouge, arrêt de tram');
    await tabTo(page, 'form[action="/personnes/nouvelle"] button[type="submit"]');
    await page.keyboard.press('Space');
    await see(page.getByRole('heading', { level: 1 }), 'Femme au manteau rouge');

    // Selects answer to type-ahead: the first letters of an option choose it.
    await tabTo(page, '#contact-channel');
    await page.keyboard.type('Tél');
    expect(await page.locator('#contact-channel').inputValue()).toBe('phone');
    await tabTo(page, '#contact-outcome');
    await page.keyboard.type('J');
    expect(await page.locator('#contact-outcome').inputValue()).toBe('reached');
    await tabTo(page, 'form[action$="/contacts"] button[type="submit"]');
    await page.keyboard.press('Enter');
    await see(page.getByRole('status'), 'Le contact est enregistré.');

    await tabTo(page, '#suivi-title');
    await page.keyboard.type('Rappeler pour le rendez-vous');
    await tabTo(page, '#suivi-dueAt');
    // A date field is typed segment by segment (jj/mm/aaaa, then Tab to hh:mm).
    const [y, m, d] = dueDay().split('-');
    await page.keyboard.type(`${d}${m}${y}`);
    await page.keyboard.press('Tab');
    await page.keyboard.type('1100');
    expect(await page.locator('#suivi-dueAt').inputValue()).toBe(`${y}-${m}-${d}T11:00`);
    await tabTo(page, 'form[action$="/suivis"] button[type="submit"]');
    await page.keyboard.press('Enter');
    await see(page.getByRole('status'), 'Le suivi est planifié');

    await tabTo(page, 'form[action^="/suivis/"] input[value="terminer"] ~ button');
    await page.keyboard.press('Space');
    await see(
      page.getByRole('status'),
      'Suivi « Rappeler pour le rendez-vous » marqué comme fait.',
    );
    expect(problems).toEqual([]);
  }, 60000);

  it('without JavaScript, on a phone, a worker logs in, records a person, logs a contact, plans a follow-up and completes it', async () => {
    const page = await newPage(375, 740, false);
    await page.goto(`${base}/personnes`);
    await atPath(page, '/connexion');
    // The DSFR's script did not run: its mark on <html> is absent.
    expect(await page.getAttribute('html', 'data-fr-js')).toBeNull();
    await logIn(page, team.worker2.email);
    await atPath(page, '/personnes');

    // The menu is shown in the page (the Menu button needs JavaScript to open its dialog).
    const menu = page.getByRole('navigation', { name: 'Menu principal' });
    expect(await menu.isVisible()).toBe(true);
    expect(await page.locator('#bouton-menu').isVisible()).toBe(false);
    await checkNoScript(page, '16-personnes-sans-js-mobile');

    await page.getByRole('link', { name: 'Nouvelle personne' }).click();
    await page.getByLabel('Surnom ou description').fill('Jeune homme, skatepark');
    await page.getByRole('button', { name: 'Enregistrer la personne' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Jeune homme, skatepark');

    await page.getByLabel('Canal').selectOption({ label: 'Rue' });
    await page.getByLabel('Résultat').selectOption({ label: 'Rendez-vous fixé' });
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    await see(page.getByRole('status'), 'Le contact est enregistré.');

    const day = dueDay();
    await page.getByLabel('Action à faire').fill('Retrouver au skatepark');
    await page.getByLabel('À faire le').fill(`${day}T17:00`);
    await page.getByRole('button', { name: 'Planifier le suivi' }).click();
    await see(page.getByRole('status'), 'Le suivi est planifié');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await checkNoScript(page, '17-fiche-sans-js-mobile');

    await menu.getByRole('link', { name: 'Mes actions' }).click();
    await see(page.locator('main'), 'Retrouver au skatepark');
    await page.getByRole('button', { name: 'Marquer comme fait : Retrouver au skatepark' }).click();
    await see(page.getByRole('status'), 'Suivi « Retrouver au skatepark » marqué comme fait.');
    expect(problems).toEqual([]);
  }, 60000);

  it('the keyboard alone reaches the content through the skip link and signs in', async () => {
    const page = await newPage();
    await page.goto(`${base}/connexion`);
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
    expect(first).toBe('Aller au contenu');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('contenu');
    await page.keyboard.press('Tab');
    await page.keyboard.type(team.worker2.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEFAULT_PASSWORD);
    await page.keyboard.press('Enter');
    await see(page.getByRole('heading', { level: 1 }), 'Mes actions');
    expect(problems).toEqual([]);
  });

  it('when the session expires while a contact is typed, then after signing in again the file’s contact form still holds what was typed', async () => {
    const { page, person } = await openNewPerson('Monsieur du banc, square');
    await page.getByLabel('Canal').selectOption({ label: 'Rue' });
    await page.getByLabel('Résultat').selectOption({ label: 'Joint(e)' });
    const summary = 'Parle de son chien malade.\nAccepte un rendez-vous au CCAS jeudi.';
    await page.getByLabel('Résumé').fill(summary);
    // The idle timeout passes: the server forgets the session.
    const cookie = (await page.context().cookies()).find((c) => c.name === 'av.sid')!;
    expect(await endSession(sessionIdOf(cookie.value))).toBe(1);
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    await atPath(page, '/connexion');
    await see(
      page.getByRole('alert'),
      'Votre session a expiré ; rien n’a été enregistré, mais ce que vous aviez saisi est conservé.',
    );
    await checkPage(page, '19-session-expiree');
    await logIn(page, team.worker2.email);
    await atPath(page, `/personnes/${person.id}`);
    await see(page.getByRole('heading', { level: 1 }), 'Monsieur du banc');
    await see(page.getByRole('alert'), 'Ce que vous aviez saisi est remis dans le formulaire');
    expect(await page.getByLabel('Résumé').inputValue()).toBe(summary);
    expect(await page.getByLabel('Canal').inputValue()).toBe('street');
    expect(await page.getByLabel('Résultat').inputValue()).toBe('reached');
    await checkPage(page, '19b-saisie-conservee');
    expect(await testKnex()('contacts').where({ person_id: person.id })).toHaveLength(0);
    // Sent again, it is saved.
    await page.getByRole('button', { name: 'Enregistrer le contact' }).click();
    await see(page.getByRole('status'), 'Le contact est enregistré.');
    const [saved] = await testKnex()('contacts').where({ person_id: person.id });
    expect(saved.channel).toBe('street');
    expect(problems).toEqual([]);
  }, 60000);

  /** Signs in a page of this size, then presses Tab twice and Enter: "Aller au menu". */
  async function skipToMenu(width: number, height: number, javaScriptEnabled = true) {
    const page = await newPage(width, height, javaScriptEnabled);
    await page.goto(`${base}/connexion`);
    await logIn(page, team.worker2.email);
    await see(page.getByRole('heading', { level: 1 }), 'Mes actions');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focusIsOn(page, '.fr-skiplinks a')).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe(
      'Aller au menu',
    );
    await page.keyboard.press('Enter');
    return page;
  }

  it('on a phone, the skip link "Aller au menu" leads to the Menu button, which opens the menu', async () => {
    const page = await skipToMenu(375, 740);
    expect(await focusIsOn(page, '#bouton-menu')).toBe(true);
    await page.keyboard.press('Enter');
    const nav = page.getByRole('navigation', { name: 'Menu principal' });
    await nav.getByRole('link', { name: 'Personnes' }).waitFor({ timeout: 10000 });
    await checkPage(page, '18-menu-ouvert-mobile');
    expect(problems).toEqual([]);
  });

  it('on a large screen, and on a phone without JavaScript, "Aller au menu" leads into the menu', async () => {
    for (const [width, height, js] of [
      [1280, 900, true],
      [375, 740, false],
    ] as const) {
      const page = await skipToMenu(width, height, js);
      await page.keyboard.press('Tab');
      expect(await focusIsOn(page, '#navigation a[href="/"]')).toBe(true);
    }
    expect(problems).toEqual([]);
  });
});
