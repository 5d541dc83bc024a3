import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Express } from 'express';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { DEFAULT_PASSWORD } from '../setup/context';

/**
 * The browser plumbing of the Chromium tests: Debian's Chromium, headless, against the real app
 * on a random port. Pages are checked with axe and photographed under test-output/; with
 * UPDATE_SCREENSHOTS=1 the README screenshots in docs/screenshots/ are rewritten too.
 */
const OUT = path.resolve('test-output');
const DOCS = path.resolve('docs/screenshots');

/** The machine's network is closed: without these, Chromium keeps trying to phone home. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--lang=fr-FR',
];

const CHROMIUM = '/usr/bin/chromium';
/** Debian's chromium-l10n: without it Chromium on Linux draws date fields the US way. */
const FRENCH_LOCALE = '/usr/lib/chromium/locales/fr.pak';

/**
 * Debian's Chromium, in French. A missing browser or French locale fails the test with what to
 * install, rather than a launch error deep in playwright (the tests are never skipped).
 */
export function requireChromium(executable = CHROMIUM, frenchLocale = FRENCH_LOCALE): void {
  if (!fs.existsSync(executable)) {
    throw new Error(
      `The browser tests need Chromium at ${executable}: install Debian's chromium package ` +
        '(apt-get install chromium chromium-l10n).',
    );
  }
  if (!fs.existsSync(frenchLocale)) {
    throw new Error(
      `The browser tests need Chromium's French locale (${frenchLocale}), or date fields show ` +
        "mm/dd/yyyy: install Debian's chromium-l10n package (apt-get install chromium-l10n).",
    );
  }
}

export function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // On Linux Chromium takes its interface locale (date and time fields) from the environment;
    // --lang and the context locale only set navigator.language and Accept-Language.
    env: { ...process.env, LANGUAGE: 'fr' },
  });
}

export interface Served {
  server: Server;
  /** http://127.0.0.1:<port>, without a trailing slash. */
  base: string;
  close(): Promise<void>;
}

export async function serve(app: Express, port = 0): Promise<Served> {
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface PageOptions {
  width?: number;
  height?: number;
  /** Console errors and failed requests: a CSP violation or a missing asset shows up here. */
  problems?: string[];
  /** false: the page's own scripts (the DSFR's) never run, as in a browser without JavaScript. */
  javaScriptEnabled?: boolean;
}

/** A page in its own context (own cookies), French and on Paris time. */
export async function newPage(browser: Browser, opts: PageOptions = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
  });
  const page = await context.newPage();
  if (opts.problems) collectProblems(page, opts.problems);
  return page;
}

/**
 * What a page without JavaScript looks like, in a page that can still run axe (axe needs
 * scripts; a context with JavaScript disabled never finishes its run): the DSFR's scripts are
 * answered empty, so the no-JS styles apply, and the page opens `url` with `from`'s cookies.
 */
export async function noScriptTwin(
  browser: Browser,
  from: Page,
  url: string,
  opts: PageOptions = {},
): Promise<Page> {
  const twin = await newPage(browser, { ...opts, javaScriptEnabled: true });
  await twin.route('**/static/dsfr/**/*.js', (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }),
  );
  await twin.context().addCookies(await from.context().cookies());
  await twin.goto(url);
  return twin;
}

function collectProblems(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    // A page answered 400/401/404/409 on purpose logs "Failed to load resource"; assets are
    // checked by status below, so only other errors (a CSP refusal, a script error) count.
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    // A request cut short by the next navigation (the favicon, often) is not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.url().includes('/static/') && r.status() >= 400)
      problems.push(`${r.status()}: ${r.url()}`);
  });
}

export interface AxeRecord {
  page: string;
  violations: { id: string; impact: string | null | undefined; nodes: number }[];
}

/**
 * No serious or critical axe violation, then a full-page screenshot named `name`. `docs` names
 * the README screenshot this page stands for; `log` collects every violation for
 * test-output/axe-results.json (see writeAxeLog).
 */
export async function checkPage(
  page: Page,
  name: string,
  opts: { docs?: string; log?: AxeRecord[]; exclude?: string } = {},
): Promise<void> {
  // axe runs in the page itself (axe.run, "legacy mode") rather than as a partial run per frame
  // finished in a second, blank page, and details only the violations (resultTypes), the one
  // result read here: every rule still runs on every node, and the violations come out the same,
  // node for node, at a third of the time on a long page. Legacy mode would miss a frame of
  // another origin: our pages have no frame, and one appearing fails here.
  expect(page.frames().map((f) => f.url())).toEqual([page.url()]);
  // `exclude`: a third-party component whose known faults the accessibility statement lists.
  const axe = new AxeBuilder({ page }).setLegacyMode(true).options({ resultTypes: ['violations'] });
  const results = await (opts.exclude ? axe.exclude(opts.exclude) : axe).analyze();
  const record: AxeRecord = {
    page: name,
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
    })),
  };
  opts.log?.push(record);
  // One file per page, rewritten each run: every browser test's results in one place.
  fs.mkdirSync(path.join(OUT, 'axe'), { recursive: true });
  fs.writeFileSync(path.join(OUT, 'axe', `${name}.json`), JSON.stringify(record, null, 2));
  const blocking = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(blocking.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}`)).toEqual([]);
  await shoot(page, path.join(OUT, `${name}.png`));
  if (opts.docs && process.env.UPDATE_SCREENSHOTS === '1') {
    await shoot(page, path.join(DOCS, `${opts.docs}.png`));
  }
}

async function shoot(page: Page, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
}

export function writeAxeLog(log: AxeRecord[]): void {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'axe-results.json'), JSON.stringify(log, null, 2));
}

/**
 * Waits until the locator holds this text (pages load after each submit). On failure the page
 * is photographed as test-output/<failureShot>.png. 10 s suits our own pages; a third-party
 * viewer that draws in the browser may be given longer, with the reason at the call.
 */
export async function see(
  locator: Locator,
  text: string | RegExp,
  failureShot = 'failure',
  timeoutMs = 10000,
): Promise<void> {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: timeoutMs });
  } catch (err) {
    // What the page showed instead is the fastest way to understand a failure.
    await shoot(locator.page(), path.join(OUT, `${failureShot}.png`));
    throw err;
  }
}

/**
 * Waits until the locator matches exactly `n` elements: a page that changes a count is known
 * to be the new one, where a message shown by the previous page as well would not tell.
 */
export async function countBecomes(
  locator: Locator,
  n: number,
  failureShot = 'failure',
): Promise<void> {
  const until = Date.now() + 10000;
  let count = await locator.count();
  while (count !== n && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = await locator.count();
  }
  if (count !== n) {
    await shoot(locator.page(), path.join(OUT, `${failureShot}.png`));
    throw new Error(`expected ${n} elements for ${locator.toString()}, found ${count}`);
  }
}

export async function atPath(page: Page, pathname: string): Promise<void> {
  await page.waitForURL((u) => u.pathname === pathname, { timeout: 10000 });
}

/** Whether the element that has the focus matches this CSS selector. */
export function focusIsOn(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);
}

/**
 * The focused element, named for a failure message, and whether a focus outline is drawn: on
 * the element, or where the DSFR draws it (a ::before covering an enlarged link, the label's
 * box of a checkbox).
 */
export function focusRing(
  page: Page,
): Promise<{ what: string; outline: boolean; calendar?: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: 'body', outline: false };
    // The calendar button inside a date field: the host no longer matches :focus and Chromium
    // draws its own ring around the button (seen in test-output/focus-calendar-button.png).
    if (el.matches('input[type=datetime-local], input[type=date]') && !el.matches(':focus'))
      return { what: `calendar button of ${el.id}`, outline: true, calendar: true };
    const drawn = (st: CSSStyleDeclaration) =>
      st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0;
    const label = el.matches('input[type=checkbox], input[type=radio]')
      ? document.querySelector(`label[for="${el.id}"]`)
      : null;
    const outline =
      drawn(getComputedStyle(el)) ||
      drawn(getComputedStyle(el, '::before')) ||
      drawn(getComputedStyle(el, '::after')) ||
      (label !== null && drawn(getComputedStyle(label, '::before')));
    const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40);
    return { what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${name}"`, outline };
  });
}

/**
 * Presses Tab until the focus is on `selector`, as a keyboard user moves through the page, and
 * checks at every stop that the focused element shows a visible focus outline.
 */
export async function tabTo(page: Page, selector: string, maxStops = 80): Promise<void> {
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const ring = await focusRing(page);
    if (ring.calendar) await shoot(page, path.join(OUT, 'focus-calendar-button.png'));
    expect(ring.outline ? 'visible' : `no focus outline on ${ring.what}`).toBe('visible');
    if (await focusIsOn(page, selector)) return;
  }
  throw new Error(`Tab did not reach ${selector} within ${maxStops} stops`);
}

/** Signs in on the login form that `url` leads to (any page asks for it first). */
export async function signIn(
  page: Page,
  url: string,
  email: string,
  password = DEFAULT_PASSWORD,
): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Adresse électronique').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}
