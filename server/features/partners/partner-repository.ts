import type { Knex } from 'knex';
import { OPEN_STATUSES } from '../referrals/referral-state';
import type { PartnerEmailChangeRepository } from './partner-email-change-repository';
import {
  STALE_AFTER_MONTHS,
  type CreatePartnerInput,
  type ServiceInput,
  type UpdatePartnerInput,
} from './partner-schemas';

export interface PartnerService {
  id: string;
  partnerId: string;
  name: string;
  description: string | null;
  themes: string[];
  audience: string[];
  area: string | null;
  howToReach: string | null;
  /** Business days the partner has to answer; null: the referring structure's delay applies. */
  responseDelayDays: number | null;
  lastReviewedAt: Date;
  stale: boolean;
  /** Moves with every change of the service (409 when a change is stale). */
  version: number;
}

export interface Partner {
  id: string;
  name: string;
  /** The confirmed address: every email about a referral goes there. */
  email: string;
  /** A new address asked for and not confirmed yet from it: nothing is sent there. */
  pendingEmail: string | null;
  phone: string | null;
  description: string | null;
  area: string | null;
  howToReach: string | null;
  website: string | null;
  lastReviewedAt: Date;
  stale: boolean;
  /** Moves with every change of the description or the confirmed email. */
  version: number;
  services: PartnerService[];
  createdAt: Date;
  updatedAt: Date;
}

type Db = Knex | Knex.Transaction;

/** The moment before which a review is stale. */
function staleBefore(now: Date): Date {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - STALE_AFTER_MONTHS);
  return d;
}

const toService = (r: Record<string, unknown>, now: Date): PartnerService => ({
  id: r.id as string,
  partnerId: r.partner_id as string,
  name: r.name as string,
  description: (r.description as string | null) ?? null,
  themes: (r.themes as string[]) ?? [],
  audience: (r.audience as string[]) ?? [],
  area: (r.area as string | null) ?? null,
  howToReach: (r.how_to_reach as string | null) ?? null,
  responseDelayDays: (r.response_delay_days as number | null) ?? null,
  lastReviewedAt: r.last_reviewed_at as Date,
  stale: new Date(r.last_reviewed_at as Date) < staleBefore(now),
  version: r.version as number,
});

const toPartner = (
  r: Record<string, unknown>,
  services: PartnerService[],
  pending: Map<string, string>,
  now: Date,
): Partner => ({
  id: r.id as string,
  name: r.name as string,
  email: r.email as string,
  pendingEmail: pending.get(r.id as string) ?? null,
  phone: (r.phone as string | null) ?? null,
  description: (r.description as string | null) ?? null,
  area: (r.area as string | null) ?? null,
  howToReach: (r.how_to_reach as string | null) ?? null,
  website: (r.website as string | null) ?? null,
  lastReviewedAt: r.last_reviewed_at as Date,
  stale: new Date(r.last_reviewed_at as Date) < staleBefore(now),
  version: r.version as number,
  services,
  createdAt: r.created_at as Date,
  updatedAt: r.updated_at as Date,
});

/**
 * A partner as stored, from its whole description (absent optional fields cleared). The email is
 * not part of it: it is set at creation, then changes only once the new address confirms.
 */
const partnerRow = (p: UpdatePartnerInput, now: Date) => ({
  name: p.name,
  phone: p.phone ?? null,
  description: p.description ?? null,
  area: p.area ?? null,
  how_to_reach: p.howToReach ?? null,
  website: p.website ?? null,
  last_reviewed_at: now,
  updated_at: now,
});

/** A service as stored, from its whole description (absent optional fields cleared). */
const serviceRow = (s: ServiceInput, now: Date) => ({
  name: s.name,
  description: s.description ?? null,
  themes: s.themes,
  audience: s.audience ?? [],
  area: s.area ?? null,
  how_to_reach: s.howToReach ?? null,
  response_delay_days: s.responseDelayDays ?? null,
  last_reviewed_at: now,
  updated_at: now,
});

/**
 * One directory for the deployment: every structure reads and refers to all of it, so the reads
 * are not structure-scoped (they hold no person data). Each partner has an owning structure
 * (`structure_id`) and every write is scoped to it in its WHERE: the partner's email receives the
 * signed links of every structure's referrals, so only its owner's admins may change it.
 */
export function createPartnerRepository(
  emailChanges: Pick<PartnerEmailChangeRepository, 'pendingEmails'>,
) {
  const repo = {
    async list(
      db: Db,
      now: Date,
      f: { theme?: string; offerable?: boolean } = {},
    ): Promise<Partner[]> {
      const q = db('partners').orderBy('name').orderBy('id');
      if (f.offerable) q.where('last_reviewed_at', '>=', staleBefore(now));
      const rows = await q;
      const ids = rows.map((r) => r.id as string);
      const [services, pending] = await Promise.all([
        repo.servicesOf(db, ids, now),
        emailChanges.pendingEmails(db, ids, now),
      ]);
      return rows
        .map((r) => {
          let s = services.filter((x) => x.partnerId === r.id);
          if (f.offerable) s = s.filter((x) => !x.stale);
          if (f.theme)
            s = s.filter((x) =>
              x.themes.some((t) => t === f.theme || t.startsWith(`${f.theme}--`)),
            );
          return toPartner(r, s, pending, now);
        })
        .filter((p) => !f.theme || p.services.length > 0);
    },

    async findById(db: Db, id: string, now: Date): Promise<Partner | null> {
      const row = await db('partners').where({ id }).first();
      return row ? repo.withDetails(db, row, now) : null;
    },

    async withDetails(db: Db, row: Record<string, unknown>, now: Date): Promise<Partner> {
      const id = row.id as string;
      const [services, pending] = await Promise.all([
        repo.servicesOf(db, [id], now),
        emailChanges.pendingEmails(db, [id], now),
      ]);
      return toPartner(row, services, pending, now);
    },

    /** The partner, when the structure owns it (may edit it); null otherwise, as for an unknown id. */
    async findOwned(db: Db, id: string, structureId: string, now: Date): Promise<Partner | null> {
      const row = await db('partners').where({ id, structure_id: structureId }).first();
      return row ? repo.withDetails(db, row, now) : null;
    },

    /**
     * Whether the structure owns the partner: only its owner creates the partner's users (an
     * admin's invitation, the CLI's users:create).
     */
    async owns(db: Db, structureId: string, id: string): Promise<boolean> {
      return !!(await db('partners').where({ id, structure_id: structureId }).first('id'));
    },

    /** The ids of the partners the structure owns. */
    async ownedIds(db: Db, structureId: string): Promise<string[]> {
      return (await db('partners')
        .where({ structure_id: structureId })
        .orderBy('id')
        .pluck('id')) as string[];
    },

    /** The structures with an open referral to the partner: where its mail goes concerns them. */
    async structuresWithOpenReferrals(db: Db, partnerId: string): Promise<string[]> {
      return (await db('referrals')
        .where({ partner_id: partnerId })
        .whereIn('status', OPEN_STATUSES)
        .distinct('structure_id')
        .orderBy('structure_id')
        .pluck('structure_id')) as string[];
    },

    /** Locks the partner row and returns its confirmed email (null when unknown). */
    async lockEmail(trx: Knex.Transaction, id: string): Promise<string | null> {
      const row = await trx('partners').where({ id }).forUpdate().first('email');
      return (row?.email as string | undefined) ?? null;
    },

    async setEmail(trx: Knex.Transaction, id: string, email: string, now: Date): Promise<void> {
      await trx('partners')
        .where({ id })
        .update({ email, updated_at: now, version: trx.raw('version + 1') });
    },

    async exists(db: Db, id: string): Promise<boolean> {
      return Boolean(await db('partners').where({ id }).first('id'));
    },

    /** The partner organisation's staff with an active account, who hear of its new referrals. */
    async activeStaffIds(db: Db, partnerId: string): Promise<string[]> {
      return (await db('users')
        .where({ partner_id: partnerId, role: 'partner' })
        .whereNull('disabled_at')
        .orderBy('id')
        .pluck('id')) as string[];
    },

    async nameOf(db: Db, id: string): Promise<string | null> {
      const row = await db('partners').where({ id }).first('name');
      return (row?.name as string | undefined) ?? null;
    },

    async servicesOf(db: Db, partnerIds: string[], now: Date): Promise<PartnerService[]> {
      if (partnerIds.length === 0) return [];
      const rows = await db('partner_services')
        .whereIn('partner_id', partnerIds)
        .orderBy('name')
        .orderBy('id');
      return rows.map((r) => toService(r, now));
    },

    /** A new partner, owned by the structure of the admin who adds it. */
    async insert(
      trx: Knex.Transaction,
      structureId: string,
      p: CreatePartnerInput,
      now: Date,
    ): Promise<string> {
      const [row] = await trx('partners')
        .insert({
          ...partnerRow(p, now),
          email: p.email,
          structure_id: structureId,
          created_at: now,
        })
        .returning('id');
      if (p.services.length) {
        await trx('partner_services').insert(
          p.services.map((s) => ({ partner_id: row.id, ...serviceRow(s, now), created_at: now })),
        );
      }
      return row.id as string;
    },

    /**
     * Locks the partner row when the structure owns it, so that checks on its services' names and
     * the write agree, and returns its email and version; undefined for a partner of another
     * structure, as for an unknown one. The lock holds until the transaction ends, so a service
     * written after it is the owner's.
     */
    async lockOwned(
      trx: Knex.Transaction,
      id: string,
      structureId: string,
    ): Promise<{ email: string; version: number } | undefined> {
      return trx('partners')
        .where({ id, structure_id: structureId })
        .forUpdate()
        .first('email', 'version');
    },

    /**
     * A new description, whole (an optional field left out is cleared); it counts as a review.
     * The email is left as it is (a change must be confirmed: the service compares it). The
     * caller holds the partner's row lock (lockOwned), so the row is the owner's.
     */
    async update(
      trx: Knex.Transaction,
      id: string,
      structureId: string,
      p: UpdatePartnerInput,
      now: Date,
    ): Promise<void> {
      await trx('partners')
        .where({ id, structure_id: structureId })
        .update({ ...partnerRow(p, now), version: trx.raw('version + 1') });
    },

    /** The service's version, or null when the partner has no such service. */
    async serviceVersion(db: Db, partnerId: string, serviceId: string): Promise<number | null> {
      const row = await db('partner_services')
        .where({ id: serviceId, partner_id: partnerId })
        .first('version');
      return row ? (row.version as number) : null;
    },

    /** Whether another service of this partner bears the name (case and spaces aside). */
    async serviceNameTaken(db: Db, partnerId: string, name: string, exceptId?: string) {
      const q = db('partner_services')
        .where({ partner_id: partnerId })
        .whereRaw('lower(trim(name)) = lower(trim(?))', [name]);
      if (exceptId) q.whereNot({ id: exceptId });
      return Boolean(await q.first('id'));
    },

    async insertService(trx: Knex.Transaction, partnerId: string, s: ServiceInput, now: Date) {
      const [row] = await trx('partner_services')
        .insert({ partner_id: partnerId, ...serviceRow(s, now), created_at: now })
        .returning('id');
      return row.id as string;
    },

    /** A service's description, whole; it counts as a review of that service. Owner only. */
    async updateService(
      trx: Knex.Transaction,
      structureId: string,
      partnerId: string,
      serviceId: string,
      s: ServiceInput,
      now: Date,
    ): Promise<boolean> {
      const n = await trx('partner_services')
        .where({ id: serviceId, partner_id: partnerId })
        .whereExists((q) =>
          q.select(1).from('partners').where({ id: partnerId, structure_id: structureId }),
        )
        .update({ ...serviceRow(s, now), version: trx.raw('version + 1') })
        .returning('id');
      return n.length === 1;
    },

    /**
     * An administrator of the owning structure confirmed the description is still right: the
     * partner and its services. False (nothing touched) for another structure's partner.
     */
    async markReviewed(db: Db, id: string, structureId: string, now: Date): Promise<boolean> {
      const n = await db('partners')
        .where({ id, structure_id: structureId })
        .update({ last_reviewed_at: now, updated_at: now })
        .returning('id');
      if (n.length !== 1) return false;
      await db('partner_services').where({ partner_id: id }).update({ last_reviewed_at: now });
      return true;
    },
  };
  return repo;
}

export type PartnerRepository = ReturnType<typeof createPartnerRepository>;
