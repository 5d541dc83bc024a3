import type { Knex } from 'knex';
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

/**
 * The emails sent by deadlines, one row per deadline (its Message-ID): the dedupe key that makes
 * a redelivered job harmless. Kept by the referrals feature's sent-email repository, shared by
 * every email a deadline sends (partner links, set-password links, digests).
 */
export interface SentEmailLog {
  wasSent(db: Knex | Knex.Transaction, deadlineId: string): Promise<boolean>;
  record(
    trx: Knex.Transaction,
    e: { deadlineId: string; structureId: string; kind: string; messageId: string; at: Date },
  ): Promise<void>;
}

/**
 * Sends a deadline's email, once as far as the deadline's transaction goes: the Message-ID
 * derives from the deadline (a redelivery after a crash carries the same one, so mail systems
 * drop the duplicate), and `sent_emails` records it in the deadline's transaction after the SMTP
 * hand-off. The caller checks `wasSent` first.
 */
export async function sendDeadlineEmail(
  out: { mailer: Pick<Mailer, 'send'>; sentEmails: SentEmailLog; publicUrl: string },
  trx: Knex.Transaction,
  deadline: { id: string; structureId: string; kind: string },
  now: Date,
  compose: (messageId: string) => OutgoingEmail,
): Promise<void> {
  const host = new URL(out.publicUrl).hostname || 'aller-vers.local';
  const messageId = `<deadline-${deadline.id}@${host}>`;
  await out.mailer.send(compose(messageId));
  await out.sentEmails.record(trx, {
    deadlineId: deadline.id,
    structureId: deadline.structureId,
    kind: deadline.kind,
    messageId,
    at: now,
  });
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
}

/** nodemailer waits 2 minutes to connect and 10 minutes on an idle socket by default. */
const DEFAULT_SMTP_TIMEOUT_MS = 10_000;

/**
 * Sends over SMTP_URL (e.g. smtp://127.0.0.1:1025). Without it, development and tests keep
 * working: messages go to a JSON transport and a warning says they were not delivered. Production
 * refuses to start without SMTP_URL (server/config.ts): there, such a send would count as sent.
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
