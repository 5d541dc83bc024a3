import {
  linkUsable,
  PASSWORD_PATH_PREFIX,
  passwordLinkRepository,
  passwordTokenFor,
} from '../../server/features/users/password-links';
import { passwordLinkEmail } from '../../server/features/users/user-emails';
import { userRepository } from '../../server/features/users/user-repository';
import { sentEmailRepository } from '../../server/features/referrals/sent-email-repository';
import { skipped, type Processor } from '../processor';
import { sendDeadlineEmail } from '../deadline-email';

/**
 * 'user.password_email': the invitation or set-password email. The token is rebuilt from the
 * link's id, so a redelivery sends the same working link with the same Message-ID; `sent_emails`
 * (unique per deadline) makes a second delivery after commit a no-op.
 */
export const userPasswordEmail: Processor = async (ctx) => {
  const { deadline, trx, deps, now } = ctx;
  if (await sentEmailRepository.wasSent(trx, deadline.id)) return skipped('email already sent');
  const link = await passwordLinkRepository.findById(trx, deadline.subjectId);
  if (!link) return skipped('link not found');
  if (!linkUsable(link, now)) return skipped('link used, replaced or expired');
  const user = await userRepository.findById(trx, link.userId);
  if (!user || user.disabledAt) return skipped('user disabled');
  const structureName = (await userRepository.structureName(trx, link.structureId)) ?? 'aller-vers';
  return sendDeadlineEmail(ctx, (messageId) =>
    passwordLinkEmail({
      purpose: link.purpose,
      to: user.email,
      userName: user.name,
      structureName,
      url: `${deps.config.publicUrl}${PASSWORD_PATH_PREFIX}${passwordTokenFor(deps.config.LINK_SECRET, link.id)}`,
      expiresAt: link.expiresAt,
      messageId,
    }),
  );
};
