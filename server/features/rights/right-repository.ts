import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import { seedCatalogue } from './right-catalogue';
import type { NonTakeUpReason, RightKind, RightStatus } from './right-schemas';

type Db = Knex | Knex.Transaction;

/** A right or aid of a structure's catalogue. */
export interface Right {
  id: string;
  code: string;
  label: string;
  kind: RightKind;
  archivedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

interface RightRow {
  id: string;
  structure_id: string;
  code: string;
  label: string;
  kind: RightKind;
  archived_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const toRight = (r: RightRow): Right => ({
  id: r.id,
  code: r.code,
  label: r.label,
  kind: r.kind,
  archivedAt: r.archived_at,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A person's right as it stands. */
export interface PersonRightState {
  id: string;
  rightId: string;
  code: string;
  label: string;
  kind: RightKind;
  archived: boolean;
  status: RightStatus;
  reason: NonTakeUpReason | null;
  monthlyAmount: number | null;
  note: string | null;
  version: number;
  updatedAt: Date;
  updatedByName: string | null;
}

interface PersonRightRow {
  id: string;
  right_id: string;
  code: string;
  label: string;
  kind: RightKind;
  archived_at: Date | null;
  status: RightStatus;
  reason: NonTakeUpReason | null;
  monthly_amount_cents: number | null;
  note_enc: string | null;
  version: number;
  updated_at: Date;
  updated_by_name: string | null;
}

/** One change of a person's right. */
export interface RightChange {
  id: string;
  personId: string;
  code: string;
  label: string;
  fromStatus: RightStatus | null;
  status: RightStatus;
  reason: NonTakeUpReason | null;
  monthlyAmount: number | null;
  note: string | null;
  actorName: string | null;
  at: Date;
}

interface RightChangeRow {
  id: string;
  person_id: string;
  code: string;
  label: string;
  from_status: RightStatus | null;
  status: RightStatus;
  reason: NonTakeUpReason | null;
  monthly_amount_cents: number | null;
  note_enc: string | null;
  actor_name: string | null;
  at: Date;
}

interface PersonRightWrite {
  status: RightStatus;
  reason: NonTakeUpReason | null;
  monthlyAmount: number | null;
  note: string | null;
}

const toCents = (euros: number | null) => (euros === null ? null : Math.round(euros * 100));
const toEuros = (cents: number | null) => (cents === null ? null : cents / 100);

/**
 * The catalogue and the persons' rights. Every query is scoped by structure here; notes are
 * encrypted on the way in and decrypted on the way out.
 */
export function createRightRepository(cipher: Cipher) {
  const toState = (r: PersonRightRow): PersonRightState => ({
    id: r.id,
    rightId: r.right_id,
    code: r.code,
    label: r.label,
    kind: r.kind,
    archived: r.archived_at !== null,
    status: r.status,
    reason: r.reason,
    monthlyAmount: toEuros(r.monthly_amount_cents),
    note: cipher.decryptOptional(r.note_enc),
    version: r.version,
    updatedAt: r.updated_at,
    updatedByName: r.updated_by_name,
  });

  const toChange = (r: RightChangeRow): RightChange => ({
    id: r.id,
    personId: r.person_id,
    code: r.code,
    label: r.label,
    fromStatus: r.from_status,
    status: r.status,
    reason: r.reason,
    monthlyAmount: toEuros(r.monthly_amount_cents),
    note: cipher.decryptOptional(r.note_enc),
    actorName: r.actor_name,
    at: r.at,
  });

  const states = (db: Db, structureId: string) =>
    db('person_rights as pr')
      .join('rights as rt', 'rt.id', 'pr.right_id')
      .leftJoin('users as u', 'u.id', 'pr.updated_by')
      .where('pr.structure_id', structureId)
      .select(
        'pr.id',
        'pr.right_id',
        'rt.code',
        'rt.label',
        'rt.kind',
        'rt.archived_at',
        'pr.status',
        'pr.reason',
        'pr.monthly_amount_cents',
        'pr.note_enc',
        'pr.version',
        'pr.updated_at',
        'u.name as updated_by_name',
      );

  const changes = (db: Db, structureId: string) =>
    db('person_right_events as e')
      .join('rights as rt', 'rt.id', 'e.right_id')
      .leftJoin('users as u', 'u.id', 'e.actor_id')
      .where('e.structure_id', structureId)
      .select(
        'e.id',
        'e.person_id',
        'rt.code',
        'rt.label',
        'e.from_status',
        'e.status',
        'e.reason',
        'e.monthly_amount_cents',
        'e.note_enc',
        'u.name as actor_name',
        'e.at',
      );

  return {
    async list(db: Db, structureId: string, withArchived: boolean): Promise<Right[]> {
      const q = db<RightRow>('rights').where({ structure_id: structureId });
      if (!withArchived) q.whereNull('archived_at');
      // National rights first, then the structure's own aids, each by label.
      const rows = await q.orderByRaw("kind = 'local'").orderBy('label').orderBy('code');
      return rows.map(toRight);
    },

    async findByCode(db: Db, structureId: string, code: string): Promise<Right | null> {
      const row = await db<RightRow>('rights').where({ structure_id: structureId, code }).first();
      return row ? toRight(row) : null;
    },

    async findById(db: Db, structureId: string, id: string): Promise<Right | null> {
      const row = await db<RightRow>('rights').where({ structure_id: structureId, id }).first();
      return row ? toRight(row) : null;
    },

    async lockByCode(trx: Knex.Transaction, structureId: string, code: string) {
      const row = await trx<RightRow>('rights')
        .where({ structure_id: structureId, code })
        .forUpdate()
        .first();
      return row ? toRight(row) : null;
    },

    /** Null when the code is taken in the structure (the unique key decides, not a prior read). */
    async insert(
      db: Db,
      structureId: string,
      r: { code: string; label: string; kind: RightKind },
    ): Promise<Right | null> {
      const rows = (await db('rights')
        .insert({ structure_id: structureId, ...r })
        .onConflict(['structure_id', 'code'])
        .ignore()
        .returning('*')) as RightRow[];
      return rows[0] ? toRight(rows[0]) : null;
    },

    /** Writes only if the version still matches; false on a stale version. */
    async update(
      db: Db,
      structureId: string,
      code: string,
      version: number,
      w: { label?: string; archivedAt?: Date | null },
      at: Date,
    ): Promise<boolean> {
      const rows = await db('rights')
        .where({ structure_id: structureId, code, version })
        .update({
          ...(w.label !== undefined ? { label: w.label } : {}),
          ...(w.archivedAt !== undefined ? { archived_at: w.archivedAt } : {}),
          version: db.raw('version + 1'),
          updated_at: at,
        })
        .returning('id');
      return rows.length === 1;
    },

    /** Gives a structure the seeded catalogue; what it holds already stays as it is. */
    seed: (db: Db, structureId: string) => seedCatalogue(db, structureId),

    async statesOf(db: Db, structureId: string, personId: string): Promise<PersonRightState[]> {
      const rows = (await states(db, structureId)
        .andWhere('pr.person_id', personId)
        .orderByRaw("rt.kind = 'local'")
        .orderBy('rt.label')) as PersonRightRow[];
      return rows.map(toState);
    },

    /** The person's right, locked for the rest of the transaction; null if not tracked yet. */
    async lockState(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
      rightId: string,
    ): Promise<PersonRightState | null> {
      const locked = await trx('person_rights')
        .where({ structure_id: structureId, person_id: personId, right_id: rightId })
        .forUpdate()
        .first('id');
      if (!locked) return null;
      const row = (await states(trx, structureId)
        .andWhere('pr.id', locked.id)
        .first()) as PersonRightRow;
      return toState(row);
    },

    async stateOf(db: Db, structureId: string, personId: string, rightId: string) {
      const row = (await states(db, structureId)
        .andWhere({ 'pr.person_id': personId, 'pr.right_id': rightId })
        .first()) as PersonRightRow | undefined;
      return row ? toState(row) : null;
    },

    /**
     * Inserts or updates the person's right (the caller holds the lock and checked the version)
     * and records the change.
     */
    async write(
      trx: Knex.Transaction,
      k: { structureId: string; personId: string; rightId: string; actorId: string; at: Date },
      current: PersonRightState | null,
      w: PersonRightWrite,
    ): Promise<void> {
      const cols = {
        status: w.status,
        reason: w.reason,
        monthly_amount_cents: toCents(w.monthlyAmount),
        note_enc: cipher.encryptOptional(w.note),
        updated_by: k.actorId,
        updated_at: k.at,
      };
      if (current) {
        await trx('person_rights')
          .where({ id: current.id })
          .update({ ...cols, version: trx.raw('version + 1') });
      } else {
        await trx('person_rights').insert({
          ...cols,
          structure_id: k.structureId,
          person_id: k.personId,
          right_id: k.rightId,
          created_at: k.at,
        });
      }
      await trx('person_right_events').insert({
        structure_id: k.structureId,
        person_id: k.personId,
        right_id: k.rightId,
        from_status: current?.status ?? null,
        status: cols.status,
        reason: cols.reason,
        monthly_amount_cents: cols.monthly_amount_cents,
        note_enc: cols.note_enc,
        actor_id: k.actorId,
        at: k.at,
      });
    },

    /** Every change of the person's rights, newest first. */
    async changesOf(db: Db, structureId: string, personId: string): Promise<RightChange[]> {
      const rows = (await changes(db, structureId)
        .andWhere('e.person_id', personId)
        .orderBy('e.at', 'desc')
        .orderBy('e.seq', 'desc')) as RightChangeRow[];
      return rows.map(toChange);
    },

    async changesByIds(db: Db, structureId: string, ids: string[]): Promise<RightChange[]> {
      if (ids.length === 0) return [];
      const rows = (await changes(db, structureId).whereIn('e.id', ids)) as RightChangeRow[];
      return rows.map(toChange);
    },
  };
}

export type RightRepository = ReturnType<typeof createRightRepository>;
