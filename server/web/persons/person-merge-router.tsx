import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import type { Person } from '../../features/persons/person-repository';
import { requestContext } from '../../http/request-context';
import { hasCode, NotFoundError } from '../../lib/errors';
import { formValues } from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, idOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import type { Flash } from '../views/layout';
import { MergePage, type MergeComparison, type PersonSearchResult } from './duplicate-views';
import { searchToPick } from './person-search';

type Services = Deps['services'];

const compareQuery = z.object({ avec: z.uuid().optional() }).strict();
const version = z
  .string()
  .regex(/^\d{1,10}$/)
  .transform(Number);
const mergeForm = z
  .object({
    avec: z.uuid(),
    versionCe: version,
    versionAutre: version,
    garder: z.enum(['ce', 'autre']),
  })
  .strict();

const EXPIRED = 'Cette page a expiré : rechargez-la, puis recommencez.';

const MERGED: Flash = {
  type: 'success',
  message:
    'Les deux fiches sont fusionnées : leurs contacts, suivis, droits, consentements et orientations sont réunis ici.',
};

/**
 * /personnes/:id/fusion, managers only (as POST /api/persons/:id/merge): choose the other file
 * of the same person, compare both, pick the one kept, confirm. The same service as the API.
 */
export function personMergeWebRouter(services: Services): Router {
  const r = Router();
  const managers = () => hasRole('manager');

  async function renderChoice(
    req: Request,
    res: Response,
    person: Person,
    search?: PersonSearchResult,
    status = 200,
  ) {
    const actor = actorOf(req);
    const [ctx, candidates] = await Promise.all([
      pageContext(req, services.notifications),
      services.personMerges.duplicatesOf(actor, person, requestContext(req)),
    ]);
    sendPage(
      res,
      <MergePage ctx={ctx} person={person} choice={{ candidates: candidates.items, search }} />,
      status,
    );
  }

  async function renderComparison(
    req: Request,
    res: Response,
    person: Person,
    other: Person,
    view: Pick<MergeComparison, 'keep' | 'stale' | 'error'>,
    status = 200,
  ) {
    const actor = actorOf(req);
    const [ctx, self, theirs] = await Promise.all([
      pageContext(req, services.notifications),
      services.personMerges.holdings(actor, person.id),
      services.personMerges.holdings(actor, other.id),
    ]);
    sendPage(
      res,
      <MergePage
        ctx={ctx}
        person={person}
        comparison={{ other, holdings: { self, other: theirs }, ...view }}
      />,
      status,
    );
  }

  r.get('/personnes/:id/fusion', managers(), async (req, res) => {
    const id = idOf(req);
    const q = compareQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    const actor = actorOf(req);
    const rc = requestContext(req);
    const person = await services.persons.get(actor, id, rc);
    if (!q.data.avec) return renderChoice(req, res, person);
    if (q.data.avec === id) return redirect(req, res, `/personnes/${id}/fusion`);
    const other = await services.persons.get(actor, q.data.avec, rc);
    await renderComparison(req, res, person, other, { keep: 'ce' });
  });

  r.post(
    '/personnes/:id/fusion/recherche',
    managers(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      const actor = actorOf(req);
      const rc = requestContext(req);
      const person = await services.persons.get(actor, id, rc);
      const typed = formValues(req.body, ['q']).q ?? '';
      const { search, status } = await searchToPick(services.persons, actor, typed, rc, id);
      await renderChoice(req, res, person, search, status);
    },
  );

  r.post('/personnes/:id/fusion', managers(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    const actor = actorOf(req);
    const rc = requestContext(req);
    const values = formValues(req.body, ['avec', 'versionCe', 'versionAutre', 'garder']);
    const parsed = mergeForm.safeParse(values);
    if (!parsed.success || parsed.data.avec === id) {
      const other = z.uuid().safeParse(values.avec);
      if (!other.success || other.data === id) throw new NotFoundError('Page');
      const [person, theirs] = [
        await services.persons.get(actor, id, rc),
        await services.persons.get(actor, other.data, rc),
      ];
      const keep = values.garder === 'autre' ? 'autre' : 'ce';
      const error = values.garder ? EXPIRED : 'Choisissez la fiche à conserver.';
      return renderComparison(req, res, person, theirs, { keep, error }, 400);
    }
    const { avec, versionCe, versionAutre, garder } = parsed.data;
    const [mergedId, keptId] = garder === 'ce' ? [avec, id] : [id, avec];
    const versions: Record<string, number> = { [id]: versionCe, [avec]: versionAutre };
    try {
      await services.personMerges.merge(
        actor,
        mergedId,
        { intoId: keptId, version: versions[mergedId], intoVersion: versions[keptId] },
        rc,
      );
    } catch (err) {
      // Sent twice (a double tap): the first merge went through, so the merged file is gone.
      // The second answer is the first's.
      if (
        hasCode(err, 'not_found') &&
        (await services.personMerges.keptFileOf(actor, mergedId)) === keptId
      )
        return redirect(req, res, `/personnes/${keptId}`, MERGED);
      if (!hasCode(err, 'stale_version', 'anonymised')) throw err;
      const [person, other] = [
        await services.persons.get(actor, id, rc),
        await services.persons.get(actor, avec, rc),
      ];
      return renderComparison(
        req,
        res,
        person,
        other,
        err.code === 'stale_version'
          ? { keep: garder, stale: true }
          : { keep: garder, error: 'Une fiche anonymisée ne peut pas être fusionnée.' },
        409,
      );
    }
    await redirect(req, res, `/personnes/${keptId}`, MERGED);
  });

  return r;
}
