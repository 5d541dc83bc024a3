import request from 'supertest';
import { REFERRAL_ASK_OUTCOME } from '../../../server/features/referrals/referral-schemas';
import type { ReferralStatus } from '../../../server/features/referrals/referral-state';
import { fixedClock } from '../../../server/lib/clock';
import { inputValue, textOf } from '../../e2e/html';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import {
  createPerson,
  driveTo,
  emailFor,
  giveConsent,
  refer,
  referralWorld,
  resetLinkRateLimit,
} from './helpers';
import { linkIn, startSmtp } from './smtp';

type World = Awaited<ReturnType<typeof referralWorld>>;
type LinkKind = 'respond' | 'outcome';
type Action = 'accept' | 'reject' | 'complete' | 'fail';

/** What each link may do and from where, as the spec says (not read from the code). */
const ALLOWED: Record<
  LinkKind,
  { from: ReferralStatus[]; actions: Partial<Record<Action, ReferralStatus>> }
> = {
  respond: { from: ['requested'], actions: { accept: 'accepted', reject: 'rejected' } },
  outcome: {
    from: ['accepted', 'in_progress', 'on_hold'],
    actions: { complete: 'completed', fail: 'failed' },
  },
};
const ACTIONS: Action[] = ['accept', 'reject', 'complete', 'fail'];
/** A respond link exists from the referral's creation; an outcome link once it was accepted. */
const REACHABLE: Record<LinkKind, ReferralStatus[]> = {
  respond: [
    'requested',
    'accepted',
    'rejected',
    'cancelled',
    'in_progress',
    'completed',
    'expired',
  ],
  outcome: ['accepted', 'in_progress', 'on_hold', 'completed', 'failed', 'cancelled'],
};
const FIELDS: Record<Action, Record<string, string>> = {
  accept: {},
  reject: { reason: 'no_capacity' },
  complete: { outcome: 'Colis remis' },
  fail: { reason: 'Personne injoignable' },
};

const cases = (Object.keys(REACHABLE) as LinkKind[]).flatMap((link) =>
  REACHABLE[link].flatMap((from) =>
    ACTIONS.map((action) => {
      const to = ALLOWED[link].actions[action];
      const expected: 200 | 400 | 410 = !ALLOWED[link].from.includes(from) ? 410 : to ? 200 : 400;
      return { link, from, action, expected, to: to ?? null };
    }),
  ),
);

describe('partners answering by signed link: every action of each link from each status', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: TestContext;
  let w: World;
  let personId: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({
      clock: fixedClock('2026-11-24T10:00:00+01:00'),
      env: { SMTP_URL: smtp.url },
    });
    w = await referralWorld(ctx.app);
    personId = (await createPerson(w.agents.worker)).id;
    await giveConsent(w.agents.worker, personId, w.food.partner.id);
  });
  // Every case opens links from the same address: the per-IP limit is not under test here.
  beforeEach(async () => resetLinkRateLimit(ctx));
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  /** A referral in `from` and the path of its link of this kind, sent by email like the worker does. */
  async function linkOn(link: LinkKind, from: ReferralStatus, extra: Record<string, unknown> = {}) {
    const id = (await refer(w.agents.worker, personId, w.food.partner.id, extra)).body.id as string;
    let path: string;
    if (link === 'respond') {
      path = linkIn(await emailFor(ctx, smtp, id)).path;
      await driveTo(ctx, w, id, from);
    } else {
      await driveTo(ctx, w, id, 'accepted');
      path = linkIn(await emailFor(ctx, smtp, id, REFERRAL_ASK_OUTCOME)).path;
      await driveTo(ctx, w, id, from, 'accepted');
    }
    return { id, path };
  }

  const post = (path: string, action: string, fields: Record<string, string> = {}) =>
    request(ctx.app)
      .post(path)
      .type('form')
      .send({ action, ...fields });

  /** The link audit rows of a referral (details without the link id), oldest first. */
  const linkAudit = async (referralId: string) =>
    (
      await testKnex()('audit_events')
        .where({ subject_id: referralId })
        .whereLike('action', 'referral_link.%')
        .orderBy('id')
    ).map((a) => {
      const { linkId, ...details } = a.details as Record<string, unknown>;
      expect(linkId).toEqual(expect.any(String));
      return [a.action, details];
    });

  const staffView = async (id: string) => (await w.agents.worker.get(`/api/referrals/${id}`)).body;

  it.each(cases)(
    'when the $link link is used to $action while the referral is $from, then $expected',
    async ({ link, from, action, expected, to }) => {
      const { id, path } = await linkOn(link, from);
      const before = await staffView(id);
      const res = await post(path, action, FIELDS[action]);
      expect(res.status).toBe(expected);
      const after = await staffView(id);

      if (expected !== 200) {
        expect(after.status).toBe(from);
        expect(after.events).toHaveLength(before.events.length);
        // The refusal is in the audit trail, with its reason, although nothing moved.
        expect(await linkAudit(id)).toEqual([
          [
            'referral_link.refused',
            expected === 400
              ? { reason: 'invalid_answer', field: 'action', purpose: link }
              : { reason: 'closed', purpose: link },
          ],
        ]);
        return;
      }
      expect(after.status).toBe(to);
      expect(after.events.at(-1)).toMatchObject({
        fromStatus: from,
        toStatus: to,
        actorKind: 'link',
        actorId: null,
      });
      if (action === 'complete') expect(after.outcome).toBe('Colis remis');
      if (action === 'reject') expect(after.statusReasonCode).toBe('no_capacity');
      // The requester hears of the answer, once, without the person.
      const notes = await testKnex()('notifications').where({
        subject_id: id,
        kind: `referral.${to}`,
        recipient_id: w.team.worker.id,
      });
      expect(notes).toHaveLength(1);
      expect(notes[0].title).toContain('Banque alimentaire');
      expect(notes[0].title).not.toMatch(/Nadia|Benali/);
      // Spent: the link works once.
      expect((await post(path, action, FIELDS[action])).status).toBe(410);
    },
  );

  it.each([
    ['accept', 'reject'],
    ['accept', 'accept'],
  ] as const)(
    'when one respond link is submitted twice at once (%s and %s), then one answer wins and the other is refused',
    async (a, b) => {
      for (let round = 0; round < 3; round += 1) {
        const { id, path } = await linkOn('respond', 'requested');
        const results = await Promise.all([post(path, a, FIELDS[a]), post(path, b, FIELDS[b])]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 410]);
        const after = await staffView(id);
        const winner = results[0].status === 200 ? a : b;
        expect(after.status).toBe(ALLOWED.respond.actions[winner]);
        expect(after.events.map((e: { toStatus: string }) => e.toStatus)).toEqual([
          'requested',
          after.status,
        ]);
        const links = await testKnex()('referral_links').where({ referral_id: id });
        expect(links).toHaveLength(1);
        expect(links[0].used_at).not.toBeNull();
      }
    },
  );

  it.each(['respond', 'outcome'] as const)(
    'when the %s link opens, then its page says until when it works, to the minute',
    async (link) => {
      const { id, path } = await linkOn(link, link === 'respond' ? 'requested' : 'accepted');
      const [row] = await testKnex()('referral_links').where({ referral_id: id, purpose: link });
      // Sent on 24 November at 10:00 Paris time: it works until 2 December at 10:00, not all day.
      expect(new Date(row.expires_at).toISOString()).toBe('2026-12-02T09:00:00.000Z');
      const res = await request(ctx.app).get(path);
      expect(res.status).toBe(200);
      expect(res.text).toContain("valable jusqu'au 2 décembre 2026 à 10:00 et ne sert qu'une fois");
    },
  );

  it.each(['respond', 'outcome'] as const)(
    'when the %s link of a referral serving a right opens, then the page names the right; without one, no right is shown',
    async (link) => {
      const from = link === 'respond' ? 'requested' : 'accepted';
      const serving = await linkOn(link, from, { rightCode: 'rsa' });
      const page = await request(ctx.app).get(serving.path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<dt>Droit visé</dt><dd>Revenu de solidarité active (RSA)</dd>');

      const none = await linkOn(link, from);
      const plain = await request(ctx.app).get(none.path);
      expect(plain.status).toBe(200);
      expect(plain.text).not.toContain('Droit visé');
    },
  );

  it('when one outcome link is submitted twice at once, then one answer wins and the other is refused', async () => {
    const { id, path } = await linkOn('outcome', 'in_progress');
    const results = await Promise.all([
      post(path, 'complete', FIELDS.complete),
      post(path, 'fail', FIELDS.fail),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 410]);
    const after = await staffView(id);
    expect(['completed', 'failed']).toContain(after.status);
    expect(after.events).toHaveLength(4);
  });

  it.each([
    ['outcome', 'accepted', 'complete', { outcome: 'Colis remis', reason: 'Personne injoignable' }],
    ['respond', 'requested', 'accept', { reason: 'no_capacity' }],
  ] as const)(
    'when the %s link answers a move that takes no reason (%s, then %s) with one, then 400 naming reason and nothing moves',
    async (link, from, action, fields) => {
      const { id, path } = await linkOn(link, from);
      const before = await staffView(id);
      const res = await post(path, action, fields);
      expect(res.status).toBe(400);
      // The state machine's refusal (code not_taken), said in the link page's words.
      expect(res.text).toContain(
        "Une raison n'accompagne qu'un refus ou une aide qui n'a pas pu être apportée : rien n'a été enregistré",
      );
      const after = await staffView(id);
      expect(after.status).toBe(from);
      expect(after.events).toHaveLength(before.events.length);
      expect(await linkAudit(id)).toEqual([
        ['referral_link.refused', { reason: 'invalid_answer', field: 'reason', purpose: link }],
      ]);
      // The link still works for the answer meant.
      expect((await post(path, action, { ...fields, reason: '' })).status).toBe(200);
    },
  );

  describe('a refused answer comes back in its own form, what was typed kept, the error tied to its field', () => {
    it('when the outcome link fails the help with an outcome but no reason, then 400: the outcome kept, the reason marked invalid and described by its message', async () => {
      const { id, path } = await linkOn('outcome', 'in_progress');
      const res = await post(path, 'fail', { outcome: 'Colis remis', reason: '' });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/<title>Erreur — /);
      expect(res.text).toMatch(/<textarea[^>]*id="fail-outcome"[^>]*>Colis remis<\/textarea>/);
      expect(res.text).toMatch(
        /<input[^>]*id="fail-reason"[^>]*aria-invalid="true"[^>]*aria-describedby="fail-reason-error"/,
      );
      expect(textOf(res.text, 'fail-reason-error')).toBe(
        "Indiquez la raison pour laquelle l'aide n'a pas pu être apportée",
      );
      expect(res.text).toContain('fr-input-group--error');
      // The summary leads to the field; the other answer's box stays empty.
      expect(res.text).toContain('href="#fail-reason"');
      expect(res.text).toMatch(/<textarea[^>]*id="complete-outcome"[^>]*><\/textarea>/);
      expect((await staffView(id)).status).toBe('in_progress');
    });

    it('when the respond link rejects without a reason, then 400 with the select marked invalid', async () => {
      const { path } = await linkOn('respond', 'requested');
      const res = await post(path, 'reject');
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/<select[^>]*id="reject-reason"[^>]*aria-invalid="true"/);
      expect(textOf(res.text, 'reject-reason-error')).toBe('Choisissez un motif de refus');
      expect(res.text).toContain('fr-select-group--error');
    });

    it('when the reason is too long, then 400 saying its length, the typing kept', async () => {
      const { path } = await linkOn('outcome', 'accepted');
      const long = 'x'.repeat(501);
      const res = await post(path, 'fail', { reason: long, outcome: 'Colis remis' });
      expect(res.status).toBe(400);
      expect(inputValue(res.text, 'fail-reason')).toBe(long);
      expect(textOf(res.text, 'fail-reason-error')).toBe(
        'Saisissez 500 caractères au plus (501 saisis)',
      );
      expect(res.text).toMatch(/<textarea[^>]*id="fail-outcome"[^>]*>Colis remis<\/textarea>/);
    });
  });

  describe('every refusal is audited, without the token', () => {
    it.each([
      ['a rejection without its reason', { action: 'reject' }, 'reason'],
      ['a form without an action', {}, 'action'],
      ['an action no link offers', { action: 'delete' }, 'action'],
    ] as const)(
      'when the partner submits %s, then 400, nothing moves and a refusal naming the field is recorded outside the rolled-back answer',
      async (_what, body, field) => {
        const { id, path } = await linkOn('respond', 'requested');
        const res = await request(ctx.app).post(path).type('form').send(body);
        expect(res.status).toBe(400);
        expect((await staffView(id)).status).toBe('requested');
        expect(await linkAudit(id)).toEqual([
          ['referral_link.refused', { reason: 'invalid_answer', field, purpose: 'respond' }],
        ]);
        const rows = await testKnex()('audit_events').where({ subject_id: id });
        expect(JSON.stringify(rows)).not.toContain(path.split('/').at(-1));
        expect(rows.every((r) => r.ip)).toBe(true);
      },
    );

    it('when one address is turned away by the rate limit, then its first refused hit of the window is audited, once', async () => {
      const bogus = '/partenaires/reponse/' + 'B'.repeat(43);
      const rateLimited = () =>
        testKnex()('audit_events')
          .where({ action: 'referral_link.refused' })
          .whereRaw("details->>'reason' = 'rate_limited'");
      const before = (await rateLimited()).length;
      const statuses: number[] = [];
      for (let i = 0; i < 33; i += 1) statuses.push((await request(ctx.app).get(bogus)).status);
      expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true);
      expect(statuses.slice(30)).toEqual([429, 429, 429]);
      const rows = (await rateLimited()).slice(before);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ subject_type: 'referral_link', subject_id: null });
      expect(rows[0].ip).toBeTruthy();
      expect(JSON.stringify(rows[0])).not.toContain('BBBB');
      // Posting answers counts against the same limit, and is refused the same way.
      expect(
        (await request(ctx.app).post(bogus).type('form').send({ action: 'accept' })).status,
      ).toBe(429);
      expect(await rateLimited()).toHaveLength(before + 1);
    });
  });
});
