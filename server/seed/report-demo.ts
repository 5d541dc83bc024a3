import type { DemoSeedStep } from './demo';
import { newReceiptNumber } from '../features/reports/report-receipt';
import { REPORT_ESCALATE } from '../features/reports/report-schemas';
import { createBusinessCalendar } from '../lib/calendar';

const DAY = 24 * 3600 * 1000;

/** The spec's default triage delay, as a new structure's settings have it. */
const TRIAGE_DAYS = 5;

/**
 * Demo reports: two residents' reports and a partner's waiting triage (one of them past its
 * delay, so the managers are told when the worker starts), and an older one already linked to
 * the young man of the Roseraie skate-park.
 */
export const reportDemoStep: DemoSeedStep = async (ctx) => {
  const { trx, cipher, now, outbox } = ctx;
  const calendar = createBusinessCalendar();
  const reports = [
    {
      daysAgo: 2,
      channel: 'public',
      location: 'Sous le porche de la boulangerie, place Ney',
      who: 'Homme âgé, barbe blanche, sac de couchage',
      concern:
        'Il dort sous le porche depuis plusieurs nuits et tousse beaucoup. Les commerçants lui donnent à manger.',
      reporterContact: 'voisine.placeney@example.org',
    },
    {
      // Past its delay at any hour: 5 business days from any moment, moved to the next working
      // morning, end within 12 calendar days, holidays included (9 days did not on evenings and
      // weekends, when the delay's end moves to the next working morning).
      daysAgo: 14,
      channel: 'public',
      location: 'Parking du centre commercial Grand Maine',
      who: null,
      concern:
        'Une famille avec deux jeunes enfants semble vivre dans sa voiture depuis une semaine.',
      reporterContact: null,
    },
    {
      daysAgo: 1,
      channel: 'partner',
      location: 'Épicerie solidaire, rue de la Chalouère',
      who: 'Femme ~60 ans, vient seule',
      concern: 'Ne semble pas connaître ses droits à la retraite ; dit vivre sans chauffage.',
      reporterContact: null,
    },
    {
      daysAgo: 30,
      channel: 'public',
      location: 'Skate-park de la Roseraie',
      who: 'Jeune homme ~20 ans',
      concern: 'Il passe ses journées au skate-park et dit avoir été mis à la porte.',
      reporterContact: null,
      linkedTo: 'roseraie',
    },
  ] as const;
  for (const r of reports) {
    const createdAt = new Date(now.getTime() - r.daysAgo * DAY);
    const linked = 'linkedTo' in r ? ctx.persons[r.linkedTo] : undefined;
    const [row] = await trx('reports')
      .insert({
        structure_id: ctx.structureId,
        receipt_number: newReceiptNumber(),
        channel: r.channel,
        author_id: r.channel === 'partner' ? ctx.users.partner : null,
        location_enc: cipher.encrypt(r.location),
        who_enc: cipher.encryptOptional(r.who),
        concern_enc: cipher.encrypt(r.concern),
        reporter_contact_enc: cipher.encryptOptional(r.reporterContact),
        created_at: createdAt,
        ...(linked
          ? {
              triaged_at: new Date(createdAt.getTime() + DAY),
              triaged_by: ctx.users.worker,
              triage_action: 'link',
              person_id: linked,
            }
          : {}),
      })
      .returning('id');
    if (!linked)
      await outbox.schedule({
        structureId: ctx.structureId,
        kind: REPORT_ESCALATE,
        subjectType: 'report',
        subjectId: row.id,
        dueAt: calendar.nextWorkingMoment(calendar.addBusinessDays(createdAt, TRIAGE_DAYS)),
      });
  }
};
