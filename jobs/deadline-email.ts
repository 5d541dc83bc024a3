import { sentEmailRepository } from '../server/features/referrals/sent-email-repository';
import type { OutgoingEmail } from '../server/lib/mailer';
import { done, type ProcessorContext } from './processor';

/**
 * Sends the deadline's email with a Message-ID derived from the deadline (a redelivery sends the
 * same one, so mail systems can drop the duplicate) and records it in `sent_emails`, in the
 * deadline's transaction.
 */
export async function sendDeadlineEmail(
  { deadline, trx, deps, now }: ProcessorContext,
  build: (messageId: string) => OutgoingEmail,
) {
  const host = new URL(deps.config.publicUrl).hostname || 'aller-vers.local';
  const messageId = `<deadline-${deadline.id}@${host}>`;
  await deps.mailer.send(build(messageId));
  await sentEmailRepository.record(trx, {
    deadlineId: deadline.id,
    structureId: deadline.structureId,
    kind: deadline.kind,
    messageId,
    at: now,
  });
  return done();
}
