import { Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import { PERSON_ROLES } from '../../auth/actor';
import { endpoint } from '../../http/endpoint';
import { personIdParams } from '../persons/person-schemas';
import { createLetterBody } from './letter-schemas';
import type { LetterService } from './letter-service';

export function letterRouter(letters: LetterService): Router {
  const r = Router();
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/letters',
    policy: hasRole(...PERSON_ROLES),
    params: personIdParams,
    body: createLetterBody,
    status: 201,
    response: z.string().meta({ description: 'The letter, a PDF file, as an attachment' }),
    mediaType: 'application/pdf',
    errors: [409, 422],
    summary:
      'A printable letter (application/pdf, French, on the letterhead) proposing a meeting or a number to call, to the person’s postal address; logged as a mail contact (X-Contact-Id). 422 no_postal_address without one, 422 no_recipient_name without a first or last name (the alias is never printed)',
    idempotent: true,
    async handler({ actor, params, body, ctx, res }) {
      const letter = await letters.create(actor, params.id, body, ctx);
      res
        .status(201)
        .type('application/pdf')
        .set('Content-Disposition', `attachment; filename="${letter.filename}"`)
        .set('X-Contact-Id', letter.contactId)
        .send(letter.pdf);
      return undefined;
    },
  });
  return r;
}
