import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { assertDates, notInPast } from '../../lib/date-rules';
import { BusinessRuleError, ValidationError } from '../../lib/errors';
import { parisDay } from '../../lib/wall-clock';
import type { AuditTrail, RequestContext } from '../audit/audit-trail';
import type { ContactService } from '../contacts/contact-service';
import type { UnitOfWork } from '../deadlines/outbox';
import type { IdempotencyService } from '../idempotency/idempotency-service';
import { personName } from '../persons/person-label';
import type { PersonService } from '../persons/person-service';
import type { SettingsService } from '../settings/settings-service';
import { letterParagraphs, letterPdf, type LetterContent } from './letter-pdf';
import type { CreateLetterInput } from './letter-schemas';

export interface LetterServiceDeps {
  uow: UnitOfWork;
  clock: Clock;
  persons: Pick<PersonService, 'lockInScope' | 'getInScope'>;
  contacts: Pick<ContactService, 'logInTransaction'>;
  settings: Pick<SettingsService, 'letterhead'>;
  audit: AuditTrail;
  idempotency: Pick<IdempotencyService, 'once'>;
}

export interface Letter {
  pdf: Buffer;
  filename: string;
  contactId: string;
}

/** A postal address as the lines of an envelope: typed on several lines, or with commas. */
export const addressLines = (address: string) =>
  address
    .split(/\r?\n|,\s*/)
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * Letters (spec §5): for a person reachable only by post, a printable letter on the structure's
 * letterhead proposing a meeting or a number to call, logged as a `mail` contact in the same
 * transaction (a letter that could not be made is not logged, a logged one was made).
 */
export function createLetterService({
  uow,
  clock,
  persons,
  contacts,
  settings,
  audit,
  idempotency,
}: LetterServiceDeps) {
  /**
   * The letter to a person on the structure's letterhead, dated `at`, and the summary of the
   * contact that logs it; a 422 when it cannot be addressed.
   */
  async function draw(
    trx: Knex.Transaction,
    actor: Actor,
    personId: string,
    input: CreateLetterInput,
    at: Date,
  ) {
    const person = await persons.getInScope(trx, actor, personId);
    const lines = person.address ? addressLines(person.address) : [];
    if (lines.length === 0)
      throw new BusinessRuleError(
        'no_postal_address',
        'Cette personne n’a pas d’adresse postale : ajoutez-la à sa fiche avant de lui écrire.',
      );
    // Never the alias: it describes the person for staff ("homme au chien, parvis…").
    const name = personName(person);
    if (!name)
      throw new BusinessRuleError(
        'no_recipient_name',
        'Cette personne n’a ni prénom ni nom : ajoutez-en un à sa fiche avant de lui écrire (son surnom ne figure pas sur un courrier).',
      );
    const letterhead = await settings.letterhead(trx, actor.structureId);
    const phone = input.phone ?? (letterhead.phone || null);
    if (input.kind === 'call' && !phone)
      throw new ValidationError('Invalid body: phone: is required', [
        {
          field: 'phone',
          message: 'is required: the structure’s letterhead has no phone number',
        },
      ]);
    const content: LetterContent = {
      letterhead,
      recipient: { name, addressLines: lines },
      proposal:
        input.kind === 'meeting'
          ? { kind: 'meeting', at: input.at, place: input.place, phone }
          : { kind: 'call', phone: phone as string, hours: input.hours ?? null },
      signer: actor.name,
      date: at,
    };
    const { subject, paragraphs } = letterParagraphs(content);
    return {
      pdf: await letterPdf(content),
      filename: `courrier-${parisDay(at)}.pdf`,
      summary: `Courrier « ${subject} » : ${paragraphs[1]}`,
    };
  }

  return {
    /**
     * Draws the letter and logs it as a contact; once per idempotency key: a repeat answers the
     * same letter and logs nothing.
     */
    async create(
      actor: Actor,
      personId: string,
      input: CreateLetterInput,
      ctx: RequestContext,
    ): Promise<Letter> {
      const now = clock.now();
      if (input.kind === 'meeting') assertDates(notInPast('at', input.at, now, undefined));
      return uow((trx, outbox) =>
        idempotency.once(trx, actor, ctx, {
          action: 'person.letter',
          input: { personId, ...input },
          async create() {
            // A letter logs a contact: the lock moves the file's last activity, as
            // logInTransaction asks.
            const locked = await persons.lockInScope(trx, actor, personId, now);
            const letter = await draw(trx, actor, personId, input, now);
            const contact = await contacts.logInTransaction(
              trx,
              outbox,
              actor,
              locked,
              { occurredAt: now, channel: 'mail', outcome: 'not_reached', summary: letter.summary },
              ctx,
            );
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'person.letter',
              subjectType: 'person',
              subjectId: personId,
              ip: ctx.ip,
              details: { kind: input.kind, contactId: contact.id },
            });
            return { pdf: letter.pdf, filename: letter.filename, contactId: contact.id };
          },
          keep: (l) => ({ contactId: l.contactId }),
          // The same letter drawn again, dated as the first; its contact was logged once.
          async replay({ contactId }, at) {
            const letter = await draw(trx, actor, personId, input, at);
            return { pdf: letter.pdf, filename: letter.filename, contactId };
          },
        }),
      );
    },
  };
}

export type LetterService = ReturnType<typeof createLetterService>;
