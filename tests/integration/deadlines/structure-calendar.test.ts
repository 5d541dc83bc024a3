import { fixedClock } from '../../../server/lib/clock';
import { REFERRAL_EMAIL_PARTNER } from '../../../server/features/referrals/referral-schemas';
import { FOLLOW_UP_OVERDUE_REMINDER } from '../../../server/features/deadlines/rule-kinds';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld } from '../referrals/helpers';

// Thursday 2 April 2026, 20:00 in Paris: after working hours, before Easter (Sunday 5 April).
const NOW = '2026-04-02T20:00:00+02:00';

const pendingDue = async (subjectId: string, kind: string) => {
  const rows = await testKnex()('deadlines')
    .where({ subject_id: subjectId, kind, status: 'pending' })
    .select('due_at');
  return rows.map((r: { due_at: Date }) => new Date(r.due_at).toISOString());
};
const paris = (at: string) => new Date(at).toISOString();

describe('each structure’s business calendar', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
  });
  afterAll(async () => ctx.close());

  const world = async (settings: Record<string, unknown>) => {
    const w = await referralWorld(ctx.app);
    const res = await w.agents.admin.patch('/api/settings').send({ version: 1, ...settings });
    expect(res.status).toBe(200);
    return w;
  };
  const referral = async (w: Awaited<ReturnType<typeof referralWorld>>) => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.other.id, {
      givenAt: '2026-04-01T10:00:00+02:00',
    });
    const res = await refer(w.agents.worker, person.id, w.other.id);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it('when a structure keeps the Alsace-Moselle calendar, then a partner email asked on Thursday evening waits for Tuesday 08:30 (Good Friday and Easter Monday off), and Friday 08:30 elsewhere', async () => {
    const alsace = await world({ alsaceMoselle: true });
    expect((await alsace.agents.admin.get('/api/settings')).body.alsaceMoselle).toBe(true);
    expect(await pendingDue(await referral(alsace), REFERRAL_EMAIL_PARTNER)).toEqual([
      paris('2026-04-07T08:30:00+02:00'),
    ]);

    const elsewhere = await referralWorld(ctx.app);
    expect((await elsewhere.agents.admin.get('/api/settings')).body.alsaceMoselle).toBe(false);
    expect(await pendingDue(await referral(elsewhere), REFERRAL_EMAIL_PARTNER)).toEqual([
      paris('2026-04-03T08:30:00+02:00'),
    ]);
  });

  it('when a structure switches the Alsace-Moselle calendar on, then its pending partner email moves past the new holidays', async () => {
    const w = await referralWorld(ctx.app);
    const id = await referral(w);
    expect(await pendingDue(id, REFERRAL_EMAIL_PARTNER)).toEqual([
      paris('2026-04-03T08:30:00+02:00'),
    ]);
    const res = await w.agents.admin
      .patch('/api/settings')
      .send({ version: 1, alsaceMoselle: true });
    expect(res.status).toBe(200);
    expect(res.body.replanned).toBeGreaterThanOrEqual(1);
    expect(await pendingDue(id, REFERRAL_EMAIL_PARTNER)).toEqual([
      paris('2026-04-07T08:30:00+02:00'),
    ]);
  });

  it('when a structure works 09:30-17:00, then a follow-up’s overdue reminder is planned at 09:30', async () => {
    const w = await world({ workingHours: { start: '09:30', end: '17:00' }, digestTime: '09:30' });
    const person = await createPerson(w.agents.worker);
    // Monday 13 April before opening: three business days later, Thursday 16 April.
    const res = await w.agents.worker
      .post(`/api/persons/${person.id}/follow-ups`)
      .send({ dueAt: '2026-04-13T08:00:00+02:00', title: 'Rappeler pour l’APL' });
    expect(res.status).toBe(201);
    expect(await pendingDue(res.body.id, FOLLOW_UP_OVERDUE_REMINDER)).toEqual([
      paris('2026-04-16T09:30:00+02:00'),
    ]);
  });

  it('when a structure works 09:30-17:00, then a person’s no-contact follow-up is planned within those hours', async () => {
    const w = await world({ workingHours: { start: '09:30', end: '17:00' }, digestTime: '09:30' });
    // Created Thursday 20:00: 30 days later is Saturday 2 May, so Monday 4 May at opening.
    const person = await createPerson(w.agents.worker);
    expect(await pendingDue(person.id, 'person.no_contact')).toEqual([
      paris('2026-05-04T09:30:00+02:00'),
    ]);
  });
});
