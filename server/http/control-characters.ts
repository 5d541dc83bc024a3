import type { RequestHandler } from 'express';
import { ControlCharacterError } from '../lib/errors';
import { findControlCharacter } from '../lib/validate';

/**
 * Every query string and body, of the pages as of the API, before any route reads it: a control
 * character (NUL and the like, tab and new lines aside) is a 400 naming the field. Page forms
 * read their fields by hand (`formValues`) and some never reach a zod schema that would refuse
 * it; here none is forgotten. The pages say it in French (html-error-handler), the API in JSON.
 */
export const refuseControlCharacters: RequestHandler = (req, _res, next) => {
  const inQuery = findControlCharacter(req.query, 'query');
  if (inQuery !== null) return next(new ControlCharacterError(inQuery, 'query parameter'));
  const inBody = findControlCharacter(req.body, 'body');
  if (inBody !== null) return next(new ControlCharacterError(inBody, 'body'));
  return next();
};
