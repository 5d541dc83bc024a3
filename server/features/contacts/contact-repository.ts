import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import { pageWithTotal } from '../../lib/paging';
import type { Channel, Outcome } from './contact-schemas';

export interface Contact {
  id: string;
  personId: string;
  authorId: string | null;
  authorName: string | null;
  occurredAt: Date;
  channel: Channel;
  outcome: Outcome;
  summary: string | null;
  /** Present only for its author. */
  privateNote?: string | null;
  createdAt: Date;
}

interface NewContact {
  personId: string;
  authorId: string;
  occurredAt: Date;
  channel: Channel;
  outcome: Outcome;
  summary?: string | null;
  privateNote?: string | null;
}

type Db = Knex | Knex.Transaction;

export function createContactRepository(cipher: Cipher) {
  /** The private note is decrypted for its author only; everyone else never gets the key. */
  const toContact = (r: Record<string, unknown>, viewerId: string): Contact => {
    const c: Contact = {
      id: r.id as string,
      personId: r.person_id as string,
      authorId: r.author_id as string | null,
      authorName: (r.author_name as string | null) ?? null,
      occurredAt: r.occurred_at as Date,
      channel: r.channel as Channel,
      outcome: r.outcome as Outcome,
      summary: cipher.decryptOptional(r.summary_enc as string | null),
      createdAt: r.created_at as Date,
    };
    if (r.author_id === viewerId)
      c.privateNote = cipher.decryptOptional(r.private_note_enc as string | null);
    return c;
  };

  const base = (db: Db, structureId: string) =>
    db('contacts as c')
      .leftJoin('users as u', 'u.id', 'c.author_id')
      .where('c.structure_id', structureId)
      .select('c.*', 'u.name as author_name');

  return {
    async insert(db: Db, structureId: string, c: NewContact, viewerId: string): Promise<Contact> {
      const [row] = await db('contacts')
        .insert({
          structure_id: structureId,
          person_id: c.personId,
          author_id: c.authorId,
          occurred_at: c.occurredAt,
          channel: c.channel,
          outcome: c.outcome,
          summary_enc: cipher.encryptOptional(c.summary),
          private_note_enc: cipher.encryptOptional(c.privateNote),
        })
        // The row as the lists read it (with its author's name), without a second statement.
        .returning([
          '*',
          db.raw(
            '(SELECT u.name FROM users u WHERE u.id = contacts.author_id) AS author_name',
            // knex types returning() as column names; it writes a raw expression as given.
          ) as unknown as string,
        ]);
      return toContact(row, viewerId);
    },

    async listForPerson(
      db: Db,
      structureId: string,
      personId: string,
      viewerId: string,
      page: number,
      pageSize: number,
    ) {
      const q = base(db, structureId).andWhere('c.person_id', personId);
      const { rows, total } = await pageWithTotal(
        { page, pageSize },
        (limit, offset) =>
          q.clone().orderBy('c.occurred_at', 'desc').orderBy('c.id').limit(limit).offset(offset),
        () =>
          db('contacts')
            .where({ structure_id: structureId, person_id: personId })
            .count<{ count: string }[]>('* as count')
            .then(([r]) => r.count),
      );
      return { items: rows.map((r) => toContact(r, viewerId)), total };
    },

    /** Contacts by id (a timeline page), as listForPerson shows them to this viewer. */
    async byIds(db: Db, structureId: string, ids: string[], viewerId: string): Promise<Contact[]> {
      const rows = await base(db, structureId).whereIn('c.id', ids);
      return rows.map((r) => toContact(r, viewerId));
    },
  };
}

export type ContactRepository = ReturnType<typeof createContactRepository>;
