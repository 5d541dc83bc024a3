import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import { idIn } from '../../lib/id-list';
import { pageWithTotal } from '../../lib/paging';
import type { ShareableField } from '../consents/consent-schemas';
import { validConsentSql } from '../consents/consent-validity';
import { personLabelSql } from '../persons/person-label';
import {
  PERSON_REMINDER_COLUMNS,
  remindersOnSql,
  toReminderState,
  type ReminderRow,
  type ReminderState,
} from '../persons/person-reminders';
import {
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
} from './referral-schemas';
import { OPEN_STATUSES, type ReferralStatus } from './referral-state';

type Db = Knex | Knex.Transaction;

/**
 * Why a referral planned a follow-up for staff: re-refer after expiry, update the right once the
 * loop closes (`update_right`, asked of the referent 10 business days after the acceptance) or
 * once the partner gave the outcome (`outcome_right`).
 */
export type ReferralFollowUpPurpose = 'reorient' | 'update_right' | 'outcome_right';

interface ReferralEventView {
  id: string;
  fromStatus: ReferralStatus | null;
  toStatus: ReferralStatus;
  actorKind: 'user' | 'link' | 'system';
  actorId: string | null;
  actorName: string | null;
  reasonCode: string | null;
  note: string | null;
  at: Date;
}

/** What workers and managers of the referring structure see. */
export interface Referral {
  id: string;
  personId: string;
  person: { id: string; displayName: string };
  partner: { id: string; name: string };
  service: { id: string; name: string } | null;
  /** The right the referral serves, if it names one. */
  right: { code: string; label: string } | null;
  consentId: string;
  requester: { id: string; name: string } | null;
  status: ReferralStatus;
  reason: string;
  sharedSummary: string | null;
  outcome: string | null;
  statusReasonCode: string | null;
  version: number;
  respondedAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  events: ReferralEventView[];
}

/**
 * What a partner sees: the person's name or alias, the contact details the person agreed to
 * share, the reason and the shared summary. Nothing else about the person.
 */
export interface PartnerReferral {
  id: string;
  status: ReferralStatus;
  /** For optimistic concurrency on transitions. */
  version: number;
  structure: { name: string };
  requester: { name: string } | null;
  partner: { id: string; name: string };
  service: { id: string; name: string } | null;
  /** The right the referral serves: the only right of the person a partner may know. */
  right: { code: string; label: string } | null;
  person: {
    displayName: string;
    phone?: string | null;
    email?: string | null;
    address?: string | null;
  };
  reason: string;
  sharedSummary: string | null;
  outcome: string | null;
  createdAt: Date;
  updatedAt: Date;
  events: {
    toStatus: ReferralStatus;
    fromStatus: ReferralStatus | null;
    reasonCode: string | null;
    at: Date;
  }[];
}

/** The bare row; it stays in this file. */
interface ReferralRow {
  id: string;
  structure_id: string;
  person_id: string;
  partner_id: string;
  service_id: string | null;
  consent_id: string;
  requester_id: string | null;
  right_id: string | null;
  status: ReferralStatus;
  version: number;
  created_at: Date;
}

/** A referral as the state machine and the jobs read it: its keys, status and version. */
export interface ReferralRecord {
  id: string;
  structureId: string;
  personId: string;
  partnerId: string;
  serviceId: string | null;
  consentId: string;
  requesterId: string | null;
  rightId: string | null;
  status: ReferralStatus;
  version: number;
  createdAt: Date;
}

const toRecord = (r: ReferralRow): ReferralRecord => ({
  id: r.id,
  structureId: r.structure_id,
  personId: r.person_id,
  partnerId: r.partner_id,
  serviceId: r.service_id,
  consentId: r.consent_id,
  requesterId: r.requester_id,
  rightId: r.right_id,
  status: r.status,
  version: r.version,
  createdAt: new Date(r.created_at),
});
const toRecordOrUndefined = (r: ReferralRow | undefined) => (r ? toRecord(r) : undefined);

interface ReferralFilter {
  requesterId?: string;
  status?: ReferralStatus;
  personId?: string;
  partnerId?: string;
  page: number;
  pageSize: number;
}

const servedRight = (r: Record<string, unknown>) =>
  r.right_code ? { code: r.right_code as string, label: r.right_label as string } : null;

/** What a referral's deadlines count from (the referral replanner's anchor). */
export interface ReplanAnchor {
  id: string;
  status: ReferralStatus;
  sentAt: Date;
  serviceDelay: number | null;
  acceptedAt: Date | null;
  /** The partner reminders whose moment came (delivered, skipped or given up), not cancelled. */
  remindersDelivered: number;
}

/**
 * A standing referral consent of the referral's person for its partner: not revoked, given
 * and not expired at `now` (two bindings). Correlated on the outer `r`.
 */
const STANDING = `sc.structure_id = r.structure_id and sc.person_id = r.person_id
    and sc.partner_id = r.partner_id and sc.purpose = 'referral' and ${validConsentSql('sc')}`;
/** Whether one exists: a plain EXISTS, which the planner can run as one hashed semi-join. */
const HAS_STANDING_CONSENT = `exists (select 1 from consents sc where ${STANDING})`;
/**
 * The newest one, whose shared fields say what the partner sees of the contact details. As an
 * inner lateral join it is also the scope's test that one exists, row by row: the plan for a
 * page (walk the inbox index, stop at the page's end); the semi-join is the plan for a count.
 */
const NEWEST_STANDING_CONSENT = `select sc.shared_fields from consents sc where ${STANDING}
  order by sc.given_at desc, sc.id limit 1`;

/**
 * The partner's scope, in the WHERE: referrals addressed to its organisation whose own consent
 * was not revoked, while the person still has a standing consent for that partner. A
 * revocation withdraws the partner's view at once and for good (revoked consents stay
 * revoked); an expiry withdraws it until the person renews their consent. Bare, for counting
 * and for the rows a transition locks; the partner's daily digest counts with it too
 * (`countAwaitingAnswer`), so it never announces a referral the inbox would not show.
 */
const addressedTo = (db: Db, partnerId: string) =>
  db('referrals as r')
    .join('consents as oc', 'oc.id', 'r.consent_id')
    .where('r.partner_id', partnerId)
    .whereNull('oc.revoked_at');
const partnerScope = (db: Db, partnerId: string, now: Date) =>
  addressedTo(db, partnerId).whereRaw(HAS_STANDING_CONSENT, [now, now]);

export function createReferralRepository(cipher: Cipher) {
  const staffBase = (db: Db, structureId: string) =>
    db('referrals as r')
      .join('persons as p', 'p.id', 'r.person_id')
      .join('partners as pa', 'pa.id', 'r.partner_id')
      .leftJoin('partner_services as s', 's.id', 'r.service_id')
      .leftJoin('users as u', 'u.id', 'r.requester_id')
      .leftJoin('rights as rt', 'rt.id', 'r.right_id')
      .where('r.structure_id', structureId)
      .select(
        'r.*',
        db.raw(`${personLabelSql('p', 'staff')} as person_display_name`),
        'pa.name as partner_name',
        's.name as service_name',
        'u.name as requester_name',
        'rt.code as right_code',
        'rt.label as right_label',
      );

  /**
   * The same scope with what a partner sees (the lateral join stands for the EXISTS). Of the
   * person's contact details, the partner sees those the newest standing consent shares: the
   * person's current choice. The names come from scalar sub-selects rather than joins: eight
   * joined relations took the planner about 11 ms per query, more than running it.
   */
  const partnerBase = (db: Db, partnerId: string, now: Date) =>
    addressedTo(db, partnerId)
      .joinRaw(`join lateral (${NEWEST_STANDING_CONSENT}) as c on true`, [now, now])
      .join('persons as p', 'p.id', 'r.person_id')
      .select(
        'r.id',
        'r.status',
        'r.version',
        'r.reason_enc',
        'r.shared_summary_enc',
        'r.outcome_enc',
        'r.created_at',
        'r.updated_at',
        'r.partner_id',
        'r.service_id',
        // Never shown to the partner (toPartner leaves it out): for auditing reads under it.
        'r.structure_id',
        'c.shared_fields',
        'p.phone as person_phone',
        'p.email as person_email',
        'p.address as person_address',
        db.raw(`${personLabelSql('p', 'partner')} as person_display_name`),
        db.raw(
          '(select st.name from structures st where st.id = r.structure_id) as structure_name',
        ),
        db.raw('(select pa.name from partners pa where pa.id = r.partner_id) as partner_name'),
        db.raw('(select s.name from partner_services s where s.id = r.service_id) as service_name'),
        db.raw('(select u.name from users u where u.id = r.requester_id) as requester_name'),
        db.raw('(select rt.code from rights rt where rt.id = r.right_id) as right_code'),
        db.raw('(select rt.label from rights rt where rt.id = r.right_id) as right_label'),
      );

  async function eventsOf(db: Db, ids: string[]) {
    if (ids.length === 0) return [];
    return db('referral_events as e')
      .leftJoin('users as u', 'u.id', 'e.actor_id')
      .whereIn('e.referral_id', ids)
      .orderBy('e.at')
      .orderBy('e.seq')
      .select('e.*', 'u.name as actor_name');
  }

  const toStaff = (r: Record<string, unknown>, events: Record<string, unknown>[]): Referral => ({
    id: r.id as string,
    personId: r.person_id as string,
    person: { id: r.person_id as string, displayName: r.person_display_name as string },
    partner: { id: r.partner_id as string, name: r.partner_name as string },
    service: r.service_id ? { id: r.service_id as string, name: r.service_name as string } : null,
    right: servedRight(r),
    consentId: r.consent_id as string,
    requester: r.requester_id
      ? { id: r.requester_id as string, name: r.requester_name as string }
      : null,
    status: r.status as ReferralStatus,
    reason: cipher.decrypt(r.reason_enc as string),
    sharedSummary: cipher.decryptOptional(r.shared_summary_enc as string | null),
    outcome: cipher.decryptOptional(r.outcome_enc as string | null),
    statusReasonCode: (r.status_reason_code as string | null) ?? null,
    version: r.version as number,
    respondedAt: (r.responded_at as Date | null) ?? null,
    closedAt: (r.closed_at as Date | null) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    events: events
      .filter((e) => e.referral_id === r.id)
      .map((e) => ({
        id: e.id as string,
        fromStatus: (e.from_status as ReferralStatus | null) ?? null,
        toStatus: e.to_status as ReferralStatus,
        actorKind: e.actor_kind as 'user' | 'link' | 'system',
        actorId: (e.actor_id as string | null) ?? null,
        actorName: (e.actor_name as string | null) ?? null,
        reasonCode: (e.reason_code as string | null) ?? null,
        note: cipher.decryptOptional(e.note_enc as string | null),
        at: e.at as Date,
      })),
  });

  const toPartner = (
    r: Record<string, unknown>,
    events: Record<string, unknown>[],
  ): PartnerReferral => {
    const shared = (r.shared_fields as ShareableField[]) ?? [];
    const person: PartnerReferral['person'] = {
      displayName: r.person_display_name as string,
    };
    for (const f of shared) person[f] = (r[`person_${f}`] as string | null) ?? null;
    return {
      id: r.id as string,
      status: r.status as ReferralStatus,
      version: r.version as number,
      structure: { name: r.structure_name as string },
      requester: r.requester_name ? { name: r.requester_name as string } : null,
      partner: { id: r.partner_id as string, name: r.partner_name as string },
      service: r.service_id ? { id: r.service_id as string, name: r.service_name as string } : null,
      right: servedRight(r),
      person,
      reason: cipher.decrypt(r.reason_enc as string),
      sharedSummary: cipher.decryptOptional(r.shared_summary_enc as string | null),
      outcome: cipher.decryptOptional(r.outcome_enc as string | null),
      createdAt: r.created_at as Date,
      updatedAt: r.updated_at as Date,
      // Free-text notes of the referring structure stay with it; codes and times are shared.
      events: events
        .filter((e) => e.referral_id === r.id)
        .map((e) => ({
          fromStatus: (e.from_status as ReferralStatus | null) ?? null,
          toStatus: e.to_status as ReferralStatus,
          reasonCode: (e.reason_code as string | null) ?? null,
          at: e.at as Date,
        })),
    };
  };

  return {
    /**
     * What a referral's deadlines are counted from, for re-planning them after a settings
     * change: its status, when it was sent, its service's response delay, when it was accepted,
     * and how many partner reminders were already delivered.
     */
    async replanAnchors(
      db: Db,
      structureId: string,
      ids: string[],
    ): Promise<Map<string, ReplanAnchor>> {
      if (ids.length === 0) return new Map();
      const rows: {
        id: string;
        status: ReferralStatus;
        created_at: Date;
        response_delay_days: number | null;
        accepted_at: Date | null;
        reminders_delivered: string | number;
      }[] = await db('referrals as r')
        .leftJoin('partner_services as s', 's.id', 'r.service_id')
        .where('r.structure_id', structureId)
        .modify(idIn, 'r.id', ids)
        .select(
          'r.id',
          'r.status',
          'r.created_at',
          's.response_delay_days',
          db.raw(
            "(SELECT max(e.at) FROM referral_events e WHERE e.referral_id = r.id AND e.to_status = 'accepted') AS accepted_at",
          ),
          db.raw(
            `(SELECT count(*) FROM deadlines d
               WHERE d.subject_type = 'referral' AND d.subject_id = r.id AND d.kind = ?
                 AND d.status NOT IN ('pending', 'cancelled')) AS reminders_delivered`,
            [REFERRAL_REMIND_PARTNER],
          ),
        );
      return new Map(
        rows.map((r) => [
          r.id,
          {
            id: r.id,
            status: r.status,
            sentAt: new Date(r.created_at),
            serviceDelay: r.response_delay_days,
            acceptedAt: r.accepted_at ? new Date(r.accepted_at) : null,
            remindersDelivered: Number(r.reminders_delivered),
          },
        ]),
      );
    },

    async findForStaff(db: Db, structureId: string, id: string): Promise<Referral | null> {
      const row = await staffBase(db, structureId).andWhere('r.id', id).first();
      return row ? toStaff(row, await eventsOf(db, [id])) : null;
    },

    /** Several referrals at once (the timeline's page): two queries whatever their number. */
    async findManyForStaff(db: Db, structureId: string, ids: string[]): Promise<Referral[]> {
      if (ids.length === 0) return [];
      const rows = await staffBase(db, structureId).whereIn('r.id', ids);
      const events = await eventsOf(db, ids);
      const byId = new Map(rows.map((r) => [r.id, toStaff(r, events)]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },

    async findForPartner(
      db: Db,
      partnerId: string,
      id: string,
      now: Date,
    ): Promise<PartnerReferral | null> {
      const row = await partnerBase(db, partnerId, now).andWhere('r.id', id).first();
      return row ? toPartner(row, await eventsOf(db, [id])) : null;
    },

    async listForStaff(db: Db, structureId: string, f: ReferralFilter) {
      const q = staffBase(db, structureId);
      if (f.requesterId) q.andWhere('r.requester_id', f.requesterId);
      if (f.status) q.andWhere('r.status', f.status);
      if (f.personId) q.andWhere('r.person_id', f.personId);
      if (f.partnerId) q.andWhere('r.partner_id', f.partnerId);
      const { rows, total } = await pageWithTotal(
        f,
        (limit, offset) =>
          q.clone().orderBy('r.created_at', 'desc').orderBy('r.id').limit(limit).offset(offset),
        () =>
          q
            .clone()
            .clearSelect()
            .count<{ count: string }[]>('r.id as count')
            .then(([r]) => r.count),
      );
      const events = await eventsOf(
        db,
        rows.map((r) => r.id),
      );
      return { items: rows.map((r) => toStaff(r, events)), total };
    },

    /** How many open referrals a user requested (the partner's answers and outcomes go to them). */
    async countOpenRequestedBy(db: Db, structureId: string, requesterId: string): Promise<number> {
      const [{ n }] = await db('referrals')
        .where({ structure_id: structureId, requester_id: requesterId })
        .whereIn('status', OPEN_STATUSES)
        .count<{ n: string }[]>('* as n');
      return Number(n);
    },

    /**
     * How many referrals wait for the partner's answer, as its inbox shows them (its scope, status
     * requested), about persons whose reminders are on: the partner's daily digest.
     */
    async countAwaitingAnswer(db: Db, partnerId: string, now: Date): Promise<number> {
      const [{ n }] = await partnerScope(db, partnerId, now)
        .join('persons as p', 'p.id', 'r.person_id')
        .where('r.status', 'requested')
        .whereRaw(remindersOnSql('p'))
        .select(db.raw('count(*)::int AS n'));
      return Number(n);
    },

    /**
     * The structures with a referral a partner user reads at `now` (its scope, whatever the
     * status: a closed referral stays readable while the person's consent stands).
     */
    async structuresInPartnerScope(db: Db, partnerId: string, now: Date): Promise<string[]> {
      return (await partnerScope(db, partnerId, now)
        .distinct('r.structure_id')
        .orderBy('r.structure_id')
        .pluck('r.structure_id')) as string[];
    },

    async listForPartner(db: Db, partnerId: string, f: ReferralFilter, now: Date) {
      const q = partnerBase(db, partnerId, now);
      const countQ = partnerScope(db, partnerId, now).count<{ count: string }[]>('r.id as count');
      if (f.status) {
        q.andWhere('r.status', f.status);
        countQ.andWhere('r.status', f.status);
      }
      const { rows, total } = await pageWithTotal(
        f,
        (limit, offset) =>
          q.orderBy('r.created_at', 'desc').orderBy('r.id').limit(limit).offset(offset),
        () => countQ.then(([r]) => r.count),
      );
      const events = await eventsOf(
        db,
        rows.map((r) => r.id),
      );
      return {
        items: rows.map((r) => toPartner(r, events)),
        total,
        /** The structure that referred each listed referral, which the partner is not shown. */
        referredBy: new Map(rows.map((r) => [r.id as string, r.structure_id as string])),
      };
    },

    async allForPerson(db: Db, structureId: string, personId: string): Promise<Referral[]> {
      const rows = await staffBase(db, structureId)
        .andWhere('r.person_id', personId)
        .orderBy('r.created_at', 'desc');
      const events = await eventsOf(
        db,
        rows.map((r) => r.id),
      );
      return rows.map((r) => toStaff(r, events));
    },

    /**
     * A referral of the structure, as staff may move it; locked (FOR UPDATE) for the transition
     * when `lock` is set. Read unlocked first, it says which person to lock before the referral.
     */
    async rowForStaff(db: Db, structureId: string, id: string, lock = false) {
      const q = db('referrals').where({ id, structure_id: structureId });
      if (lock) q.forUpdate();
      return toRecordOrUndefined((await q.first()) as ReferralRow | undefined);
    },

    /**
     * A referral addressed to the partner, within the partner's scope (see partnerBase); locked
     * (FOR UPDATE) for the transition when `lock` is set.
     */
    async rowForPartner(db: Db, partnerId: string, id: string, now: Date, lock = false) {
      const q = db('referrals as r')
        .where({ 'r.id': id, 'r.partner_id': partnerId })
        .whereExists((w) =>
          w
            .select(db.raw('1'))
            .from('consents as oc')
            .whereRaw('oc.id = r.consent_id')
            .whereNull('oc.revoked_at'),
        )
        .whereRaw(HAS_STANDING_CONSENT, [now, now]);
      if (lock) q.forUpdate();
      return toRecordOrUndefined((await q.first('r.*')) as ReferralRow | undefined);
    },

    /** Whether the partner may see this referral at `now` (the scope of partnerBase). */
    async partnerMaySee(db: Db, id: string, now: Date): Promise<boolean> {
      const row = await db('referrals as r')
        .join('consents as oc', 'oc.id', 'r.consent_id')
        .where('r.id', id)
        .whereNull('oc.revoked_at')
        .whereRaw(HAS_STANDING_CONSENT, [now, now])
        .first('r.id');
      return Boolean(row);
    },

    /** For system actors (jobs, signed links) that reach a referral by its id. */
    async lockById(trx: Knex.Transaction, id: string) {
      return toRecordOrUndefined(
        (await trx('referrals').where({ id }).forUpdate().first()) as ReferralRow | undefined,
      );
    },

    async findRow(db: Db, id: string) {
      return toRecordOrUndefined(
        (await db('referrals').where({ id }).first()) as ReferralRow | undefined,
      );
    },

    /**
     * The referrals of a person to a partner still in these statuses, locked: what a consent
     * revocation cancels, whichever consent each was made under.
     */
    async lockForPair(
      trx: Knex.Transaction,
      pair: { structureId: string; personId: string; partnerId: string },
      statuses: readonly ReferralStatus[],
    ) {
      const rows = (await trx('referrals')
        .where({
          structure_id: pair.structureId,
          person_id: pair.personId,
          partner_id: pair.partnerId,
        })
        .whereIn('status', statuses)
        .orderBy('created_at')
        .orderBy('id')
        .forUpdate()) as ReferralRow[];
      return rows.map(toRecord);
    },

    /** The referring structure's name, as partners and their emails know it. */
    async structureName(db: Db, structureId: string): Promise<string | null> {
      const row = await db('structures').where({ id: structureId }).first('name');
      return (row?.name as string | undefined) ?? null;
    },

    /** What a partner email needs, with nothing about the person but whether reminders are on. */
    async emailContext(
      db: Db,
      structureId: string,
      id: string,
    ): Promise<
      | ({
          id: string;
          status: ReferralStatus;
          partnerName: string;
          partnerEmail: string;
          structureName: string;
          serviceName: string | null;
        } & ReminderState)
      | null
    > {
      const r = (await db('referrals as r')
        .join('partners as pa', 'pa.id', 'r.partner_id')
        .join('structures as st', 'st.id', 'r.structure_id')
        .join('persons as p', 'p.id', 'r.person_id')
        .leftJoin('partner_services as s', 's.id', 'r.service_id')
        .where({ 'r.id': id, 'r.structure_id': structureId })
        .first(
          'r.id',
          'r.status',
          'pa.name as partner_name',
          'pa.email as partner_email',
          'st.name as structure_name',
          's.name as service_name',
          ...PERSON_REMINDER_COLUMNS,
        )) as
        | ({
            id: string;
            status: ReferralStatus;
            partner_name: string;
            partner_email: string;
            structure_name: string;
            service_name: string | null;
          } & ReminderRow)
        | undefined;
      return r
        ? {
            id: r.id,
            status: r.status,
            partnerName: r.partner_name,
            partnerEmail: r.partner_email,
            structureName: r.structure_name,
            serviceName: r.service_name,
            ...toReminderState(r),
          }
        : null;
    },

    /**
     * What the email telling a partner a referral was withdrawn needs, nothing about the person:
     * the partner, the structure, the service and the day it was asked, and whether the partner
     * ever heard of it (it answered, or the request, a reminder or a re-sent link was emailed to it).
     */
    async withdrawalContext(
      db: Db,
      structureId: string,
      id: string,
    ): Promise<{
      id: string;
      status: ReferralStatus;
      partnerName: string;
      partnerEmail: string;
      structureName: string;
      serviceName: string | null;
      createdAt: Date;
      partnerTold: boolean;
    } | null> {
      const r = (await db('referrals as r')
        .join('partners as pa', 'pa.id', 'r.partner_id')
        .join('structures as st', 'st.id', 'r.structure_id')
        .leftJoin('partner_services as s', 's.id', 'r.service_id')
        .where({ 'r.id': id, 'r.structure_id': structureId })
        .first(
          'r.id',
          'r.status',
          'r.created_at',
          'pa.name as partner_name',
          'pa.email as partner_email',
          'st.name as structure_name',
          's.name as service_name',
          db.raw(
            `(r.responded_at is not null or exists (
               select 1 from sent_emails se join deadlines d on d.id = se.deadline_id
               where d.subject_type = 'referral' and d.subject_id = r.id and d.kind in (?, ?, ?)
             )) as partner_told`,
            [REFERRAL_EMAIL_PARTNER, REFERRAL_REMIND_PARTNER, REFERRAL_RESEND_LINK],
          ),
        )) as
        | {
            id: string;
            status: ReferralStatus;
            created_at: Date;
            partner_name: string;
            partner_email: string;
            structure_name: string;
            service_name: string | null;
            partner_told: boolean;
          }
        | undefined;
      return r
        ? {
            id: r.id,
            status: r.status,
            partnerName: r.partner_name,
            partnerEmail: r.partner_email,
            structureName: r.structure_name,
            serviceName: r.service_name,
            createdAt: new Date(r.created_at),
            partnerTold: Boolean(r.partner_told),
          }
        : null;
    },

    /**
     * What the escalation to the requester needs: the partner's name, the requester and the
     * person's référent (whoever of them is still active staff is the service's to judge), and
     * nothing about the person but whether reminders are on.
     */
    async escalationContext(
      db: Db,
      structureId: string,
      id: string,
    ): Promise<
      | ({
          id: string;
          status: ReferralStatus;
          createdAt: Date;
          partnerName: string;
          requesterId: string | null;
          referentId: string | null;
        } & ReminderState)
      | null
    > {
      const r = (await db('referrals as r')
        .join('partners as pa', 'pa.id', 'r.partner_id')
        .join('persons as p', 'p.id', 'r.person_id')
        .where({ 'r.id': id, 'r.structure_id': structureId })
        .first(
          'r.id',
          'r.status',
          'r.created_at',
          'pa.name as partner_name',
          'r.requester_id',
          'p.referent_id',
          ...PERSON_REMINDER_COLUMNS,
        )) as
        | ({
            id: string;
            status: ReferralStatus;
            created_at: Date;
            partner_name: string;
            requester_id: string | null;
            referent_id: string | null;
          } & ReminderRow)
        | undefined;
      return r
        ? {
            id: r.id,
            status: r.status,
            createdAt: new Date(r.created_at),
            partnerName: r.partner_name,
            requesterId: r.requester_id,
            referentId: r.referent_id,
            ...toReminderState(r),
          }
        : null;
    },

    /** The follow-up a referral already planned for this purpose, if any. */
    async followUpFor(
      db: Db,
      referralId: string,
      purpose: ReferralFollowUpPurpose,
    ): Promise<string | null> {
      const row = await db('referral_follow_ups')
        .where({ referral_id: referralId, purpose })
        .first('follow_up_id');
      return (row?.follow_up_id as string | undefined) ?? null;
    },

    /** The primary key (referral, purpose) refuses a second follow-up for the same cause. */
    async recordFollowUp(
      trx: Knex.Transaction,
      referralId: string,
      purpose: ReferralFollowUpPurpose,
      followUpId: string,
      at: Date,
    ): Promise<void> {
      await trx('referral_follow_ups').insert({
        referral_id: referralId,
        purpose,
        follow_up_id: followUpId,
        created_at: at,
      });
    },

    async insert(
      trx: Knex.Transaction,
      r: {
        structureId: string;
        personId: string;
        partnerId: string;
        serviceId: string | null;
        consentId: string;
        requesterId: string;
        rightId: string | null;
        reason: string;
        sharedSummary: string | null;
        at: Date;
      },
    ): Promise<string> {
      const [row] = await trx('referrals')
        .insert({
          structure_id: r.structureId,
          person_id: r.personId,
          partner_id: r.partnerId,
          service_id: r.serviceId,
          consent_id: r.consentId,
          requester_id: r.requesterId,
          right_id: r.rightId,
          status: 'requested',
          reason_enc: cipher.encrypt(r.reason),
          shared_summary_enc: cipher.encryptOptional(r.sharedSummary),
          created_at: r.at,
          updated_at: r.at,
        })
        .returning('id');
      return row.id as string;
    },

    async updateStatus(
      trx: Knex.Transaction,
      id: string,
      u: {
        status: ReferralStatus;
        reasonCode: string | null;
        outcome?: string | null;
        respondedAt?: Date;
        closedAt?: Date;
        at: Date;
      },
    ) {
      await trx('referrals')
        .where({ id })
        .update({
          status: u.status,
          status_reason_code: u.reasonCode,
          ...(u.outcome !== undefined ? { outcome_enc: cipher.encryptOptional(u.outcome) } : {}),
          ...(u.respondedAt ? { responded_at: u.respondedAt } : {}),
          ...(u.closedAt ? { closed_at: u.closedAt } : {}),
          version: trx.raw('version + 1'),
          updated_at: u.at,
        });
    },

    async insertEvent(
      trx: Knex.Transaction,
      e: {
        referralId: string;
        structureId: string;
        fromStatus: ReferralStatus | null;
        toStatus: ReferralStatus;
        actorKind: 'user' | 'link' | 'system';
        actorId: string | null;
        reasonCode: string | null;
        note: string | null;
        at: Date;
      },
    ) {
      await trx('referral_events').insert({
        referral_id: e.referralId,
        structure_id: e.structureId,
        from_status: e.fromStatus,
        to_status: e.toStatus,
        actor_kind: e.actorKind,
        actor_id: e.actorId,
        reason_code: e.reasonCode,
        note_enc: cipher.encryptOptional(e.note),
        at: e.at,
      });
    },
  };
}

export type ReferralRepository = ReturnType<typeof createReferralRepository>;
