import type { Knex } from 'knex';
import type { SentEmailLog } from '../../lib/mailer';

/** One row per email sent for a deadline: the dedupe key that makes a redelivered job harmless. */
export function createSentEmailRepository(): SentEmailLog {
  const repo: SentEmailLog = {
    async wasSent(db: Knex | Knex.Transaction, deadlineId: string): Promise<boolean> {
      return Boolean(
        await db('sent_emails').where({ deadline_id: deadlineId }).first('deadline_id'),
      );
    },

    /** The primary key (deadline id) refuses a second row for the same deadline. */
    async record(
      trx: Knex.Transaction,
      e: { deadlineId: string; structureId: string; kind: string; messageId: string; at: Date },
    ): Promise<void> {
      await trx('sent_emails').insert({
        deadline_id: e.deadlineId,
        structure_id: e.structureId,
        kind: e.kind,
        message_id: e.messageId,
        sent_at: e.at,
      });
    },
  };
  return repo;
}

export type SentEmailRepository = SentEmailLog;
