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

/** nodemailer waits 2 minutes to connect and 10 minutes on an idle socket by default. */
const DEFAULT_SMTP_TIMEOUT_MS = 10_000;

/**
 * Sends over SMTP_URL (e.g. smtp://127.0.0.1:1025). Without it, development keeps working:
 * messages go to a JSON transport and a warning says they were not delivered.
 *
 * Partner emails are sent inside their deadline's transaction (so the link row and `sent_emails`
 * commit with the send): a server that accepts the connection and never answers must not hold
 * that transaction and its database connection for minutes. Every wait (DNS, connect, greeting,
 * idle socket) is bounded by SMTP_TIMEOUT_MS; the send then fails and the job is retried later.
 */
export function createMailer(
  config: { SMTP_URL?: string; MAIL_FROM: string; SMTP_TIMEOUT_MS?: number },
  logger: Logger,
): Mailer {
  const timeout = config.SMTP_TIMEOUT_MS ?? DEFAULT_SMTP_TIMEOUT_MS;
  const transport: Transporter = config.SMTP_URL
    ? nodemailer.createTransport({
        url: config.SMTP_URL,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        dnsTimeout: timeout,
      })
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
