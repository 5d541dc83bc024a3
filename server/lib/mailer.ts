import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from './logger';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic for a given cause, so a resend after a crash carries the same id. */
  messageId: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
  /** False when no SMTP_URL is set: messages are only logged (development without a mail catcher). */
  readonly delivers: boolean;
  close(): void;
}

/**
 * Sends over SMTP_URL (e.g. smtp://127.0.0.1:1025). Without it, development keeps working:
 * messages go to a JSON transport and a warning says they were not delivered.
 */
export function createMailer(
  config: { SMTP_URL?: string; MAIL_FROM: string },
  logger: Logger,
): Mailer {
  const transport: Transporter = config.SMTP_URL
    ? nodemailer.createTransport(config.SMTP_URL)
    : nodemailer.createTransport({ jsonTransport: true });
  return {
    delivers: Boolean(config.SMTP_URL),
    async send(email) {
      await transport.sendMail({
        from: config.MAIL_FROM,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
      });
      if (!config.SMTP_URL) {
        logger.warn({ messageId: email.messageId }, 'SMTP_URL is not set: email not delivered');
      }
    },
    close() {
      transport.close();
    },
  };
}
