import {
  changeProblem,
  PARTNER_EMAIL_PATH_PREFIX,
  partnerEmailChangeRepository,
  partnerEmailTokenFor,
} from '../../server/features/partners/partner-email-changes';
import {
  confirmPartnerEmail,
  partnerEmailChanged,
} from '../../server/features/partners/partner-emails';
import { partnerRepository } from '../../server/features/partners/partner-repository';
import { sentEmailRepository } from '../../server/features/referrals/sent-email-repository';
import { userRepository } from '../../server/features/users/user-repository';
import { skipped, type Processor } from '../processor';
import { sendDeadlineEmail } from '../deadline-email';

/**
 * 'partner.email_confirm': the link to a partner's new address, the only email it gets until it
 * confirms. As for set-password links, the token is rebuilt from the change's id, so a redelivery
 * sends the same working link with the same Message-ID; `sent_emails` makes a second one a no-op.
 */
export const partnerEmailConfirm: Processor = async (ctx) => {
  const { deadline, trx, deps, now } = ctx;
  if (await sentEmailRepository.wasSent(trx, deadline.id)) return skipped('email already sent');
  const change = await partnerEmailChangeRepository.findById(trx, deadline.subjectId);
  if (!change) return skipped('change not found');
  if (changeProblem(change, now)) return skipped('change confirmed, replaced or expired');
  const partnerName = (await partnerRepository.nameOf(trx, change.partnerId)) ?? '';
  const structureName =
    (await userRepository.structureName(trx, change.structureId)) ?? 'aller-vers';
  const token = partnerEmailTokenFor(deps.config.LINK_SECRET, change.id);
  return sendDeadlineEmail(ctx, (messageId) =>
    confirmPartnerEmail({
      to: change.newEmail,
      partnerName,
      structureName,
      url: `${deps.config.publicUrl}${PARTNER_EMAIL_PATH_PREFIX}${token}`,
      expiresAt: change.expiresAt,
      messageId,
    }),
  );
};

/** 'partner.email_changed': the old address is told where the partner's emails go now. */
export const partnerEmailChangedNotice: Processor = async (ctx) => {
  const { deadline, trx } = ctx;
  if (await sentEmailRepository.wasSent(trx, deadline.id)) return skipped('email already sent');
  const change = await partnerEmailChangeRepository.findById(trx, deadline.subjectId);
  if (!change?.confirmedAt || !change.oldEmail) return skipped('change not confirmed');
  const partnerName = (await partnerRepository.nameOf(trx, change.partnerId)) ?? '';
  const { oldEmail, newEmail, confirmedAt } = change;
  return sendDeadlineEmail(ctx, (messageId) =>
    partnerEmailChanged({ to: oldEmail, partnerName, newEmail, at: confirmedAt, messageId }),
  );
};
