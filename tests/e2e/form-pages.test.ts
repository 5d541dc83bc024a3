import { formFields, pageOf } from '../../server/web/form-pages';
import { createTestContext, type TestContext } from '../setup/context';
import { walkRoutes } from '../setup/routes';

const ID = '7d1c7a52-54a8-4a5c-9a57-3f1a2b6c9d10';

/** A route's path as a regular expression: each parameter one path segment, as Express reads it. */
const routePattern = (path: string) =>
  new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/:[A-Za-z]+/g, '[^/]+')}$`);

/**
 * The page a form is on, from the address it was posted to: the address the browser shows after
 * a form is sent back with its mistakes, and so the Referer of the next form sent from there.
 */
describe('the page of a form', () => {
  it.each([
    [`/personnes/${ID}/contacts`, `/personnes/${ID}`],
    [`/personnes/${ID}/suivis`, `/personnes/${ID}`],
    [`/personnes/${ID}/droits`, `/personnes/${ID}`],
    [`/personnes/${ID}/consentements`, `/personnes/${ID}/orientations`],
    [`/orientations/${ID}/transition`, `/orientations/${ID}`],
    [`/personnes/${ID}/cloturer`, `/personnes/${ID}/modifier`],
    [`/admin/partenaires/${ID}/services`, `/admin/partenaires/${ID}/services/nouveau`],
    [`/admin/droits/rsa/archive`, '/admin/droits'],
    [`/signalements/${ID}/recherche`, `/signalements/${ID}`],
  ])('when a form was posted to %s, then its page is %s', (action, page) => {
    expect(pageOf(action)).toBe(page);
  });

  it('when a form is carried by several pages, then its address names none (the form or the Referer does)', () => {
    expect(pageOf(`/suivis/${ID}`)).toBeNull();
    expect(pageOf('/equipe/confier')).toBeNull();
  });

  it('when the address is a page, then it is its own page, its query kept', () => {
    expect(pageOf(`/personnes/${ID}`)).toBe(`/personnes/${ID}`);
    expect(pageOf('/orientations?status=requested&page=2')).toBe(
      '/orientations?status=requested&page=2',
    );
    expect(pageOf(`/personnes/${ID}/contacts?x=1`)).toBe(`/personnes/${ID}`);
  });

  it('when the address is not a local path, then there is no page', () => {
    for (const address of ['//evil.example/x', 'https://evil.example/', 'personnes', ''])
      expect(pageOf(address)).toBeNull();
  });

  describe('every form of the app', () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext();
    });
    afterAll(async () => ctx.close());

    it('when any page form is posted, then the page it leads back to is a page the app serves', () => {
      const routes = walkRoutes(ctx.app).filter((r) => !r.path.startsWith('/api'));
      const pages = routes.filter((r) => r.method === 'GET').map((r) => routePattern(r.path));
      const posts = routes.filter((r) => r.method === 'POST').map((r) => r.path);
      expect(posts.length).toBeGreaterThan(40);
      const saidByTheForm = ['/deconnexion', '/suivis/:id', '/equipe/confier'];
      const without = posts
        .filter((p) => !saidByTheForm.includes(p))
        .map((p) => ({ action: p, page: pageOf(p.replace(/:[A-Za-z]+/g, 'x1')) }))
        .filter(({ page }) => !page || !pages.some((re) => re.test(page.split('?')[0])))
        .map(({ action, page }) => `${action} → ${page}`);
      expect(without).toEqual([]);
      expect(posts).toEqual(expect.arrayContaining(saidByTheForm));
    });

    it('when a form takes typed text, then each of those fields has the label its form shows', () => {
      const posts = walkRoutes(ctx.app)
        .filter((r) => r.method === 'POST' && !r.path.startsWith('/api'))
        .map((r) => r.path.replace(/:[A-Za-z]+/g, 'x1'));
      const unlabelled = posts.flatMap((action) => {
        const { labels, text } = formFields(action);
        return text.filter((name) => !labels[name]).map((name) => `${action} ${name}`);
      });
      expect(unlabelled).toEqual([]);
      expect(formFields(`/personnes/${ID}/contacts`).labels.privateNote).toBe('Note privée');
      expect(formFields(`/personnes/${ID}/contacts`).labels.nextFollowUpTitle).toBe(
        'Intitulé du prochain suivi',
      );
    });
  });
});
