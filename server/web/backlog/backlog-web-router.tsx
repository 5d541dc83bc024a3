import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { backlogItemsQuery, backlogQuery } from '../../features/backlog/backlog-schemas';
import { reassignFollowUpsBody } from '../../features/follow-ups/follow-up-schemas';
import { AppError, NotFoundError } from '../../lib/errors';
import { byFrenchName } from '../../lib/french-order';
import { formList, formValues } from '../forms';
import { localPath, plural } from '../format';
import { csrf, pageContext } from '../page-context';
import { actorOf, redirect, redirectPastLastPage } from '../page-helpers';
import { sendPage } from '../render';
import { BacklogItemsPage, BacklogPage, groupLabel, itemsHref } from './backlog-pages';

type Services = Deps['services'];

const ITEMS_PAGE_SIZE = 50;

/** Why a move was refused, in the words of the page; by the error's code. */
function moveRefusal(err: unknown): string | null {
  if (!(err instanceof AppError)) return null;
  switch (err.code) {
    case 'assignee_unavailable':
      return 'Cette personne ne peut pas recevoir de suivis : elle n’est pas (ou plus) active dans votre structure.';
    case 'validation_failed':
      return 'Choisissez au moins un suivi et la personne à qui le confier.';
    case 'not_found':
      return 'Un des suivis choisis n’existe plus ; la page est à jour.';
    case 'conflict':
      return 'Un des suivis choisis a été fait ou annulé entre-temps ; la page est à jour.';
    default:
      return null;
  }
}

/** The files moved, the open ones counted apart when some are closed. */
function filesMoved(files: number, active: number): string {
  const moved = plural(files, 'dossier de référent·e confié', 'dossiers de référent·e confiés');
  if (active === files) return moved;
  if (active === 0) return `${moved}, ${files > 1 ? 'tous clos' : 'clos'}`;
  return `${moved}, dont ${plural(active, 'actif', 'actifs')}`;
}

/**
 * What a move did, as it happened: the service tells the new assignee of each kind of work
 * moved, and nobody when nothing moved. Closed files move too: the open ones are counted apart.
 */
function movedMessage(followUps: number, files: number, activeFiles: number) {
  if (followUps === 0 && files === 0)
    return {
      type: 'info' as const,
      message:
        'Rien n’a été confié : aucun suivi ouvert ni dossier à reprendre. Personne n’a été averti.',
    };
  const moved = [
    followUps ? plural(followUps, 'suivi confié', 'suivis confiés') : null,
    files ? filesMoved(files, activeFiles) : null,
  ].filter(Boolean);
  return {
    type: 'success' as const,
    message: `${moved.join(' et ')} ; la personne choisie en est avertie.`,
  };
}

/** A local path of the backlog home (`/`, with its query), else null. */
function backlogPath(value: unknown): string | null {
  const path = localPath(value);
  return path && /^\/(\?|$)/.test(path) ? path : null;
}

/**
 * A page's query with its team filter as the API takes it: the team boxes send an empty teamId
 * besides the ticked ones (none ticked: the whole structure), so the empty values are dropped.
 */
function withTeams(query: Request['query']): Record<string, unknown> {
  const { teamId, ...rest } = query;
  const ids = ([] as unknown[]).concat(teamId ?? []).filter((t) => t !== '');
  return ids.length ? { ...rest, teamId: ids.length === 1 ? ids[0] : ids } : rest;
}

/**
 * The manager's home at `/` (called by the web router for managers): the backlog of the teams
 * they lead, unless the address chooses (teamId, empty for the whole structure).
 */
export async function renderBacklog(services: Services, req: Request, res: Response) {
  const actor = actorOf(req);
  const q = backlogQuery.safeParse(withTeams(req.query));
  if (!q.success) throw new NotFoundError('Page');
  const [backlog, staff, holders, teams, ctx] = await Promise.all([
    services.backlog.home(actor, q.data, req.query.teamId !== undefined),
    services.persons.listReferents(actor),
    services.followUps.holders(actor),
    services.teams.list(actor),
    pageContext(req, services.notifications, { withToken: true }),
  ]);
  const leavers = [...new Map([...staff, ...holders].map((u) => [u.id, u])).values()].sort(
    byFrenchName,
  );
  sendPage(
    res,
    <BacklogPage ctx={ctx} backlog={backlog} staff={staff} leavers={leavers} teams={teams.items} />,
  );
}

/** The backlog's item pages and the manager's moves of follow-ups. */
export function backlogWebRouter(services: Services): Router {
  const r = Router();
  const manager = () => hasRole('manager');

  r.get('/equipe/elements', manager(), async (req, res) => {
    const actor = actorOf(req);
    const q = backlogItemsQuery.safeParse({ ...withTeams(req.query), pageSize: ITEMS_PAGE_SIZE });
    if (!q.success) throw new NotFoundError('Page');
    const [list, staff, ctx] = await Promise.all([
      services.backlog.items(actor, q.data, requestContext(req)),
      services.persons.listReferents(actor),
      pageContext(req, services.notifications, { withToken: true }),
    ]);
    const address = {
      groupBy: q.data.groupBy,
      key: q.data.key,
      bucket: q.data.bucket,
      teamIds: [q.data.teamId ?? []].flat(),
    };
    if (await redirectPastLastPage(req, res, list, (p) => itemsHref(address, p), ctx.flash)) return;
    sendPage(
      res,
      <BacklogItemsPage
        ctx={ctx}
        address={address}
        label={groupLabel(q.data.groupBy, q.data.key, list.label)}
        list={list}
        staff={staff}
      />,
    );
  });

  const move = async (
    req: Request,
    res: Response,
    back: string,
    body: Parameters<Services['followUps']['reassign']>[1],
  ) => {
    try {
      const done = await services.followUps.reassign(actorOf(req), body, requestContext(req));
      await redirect(
        req,
        res,
        back,
        movedMessage(done.followUpIds.length, done.personIds.length, done.activePersonIds.length),
      );
    } catch (err) {
      const message = moveRefusal(err);
      if (!message) throw err;
      await redirect(req, res, back, { type: 'error', message });
    }
  };

  const uuid = z.uuid();

  r.post('/equipe/confier', manager(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['toAssigneeId', 'retour']);
    const back = localPath(values.retour) ?? '/';
    const ids = formList(req.body, 'ids');
    // The API's schema: an assignee and 1 to 500 follow-up ids (a malformed one refused here,
    // not by the database).
    const ok = reassignFollowUpsBody.safeParse({ toAssigneeId: values.toAssigneeId, ids }).success;
    if (!ok)
      return redirect(req, res, back, {
        type: 'error',
        message: 'Choisissez au moins un suivi et la personne à qui le confier.',
      });
    await move(req, res, back, { toAssigneeId: values.toAssigneeId, ids });
  });

  r.post('/equipe/confier-tout', manager(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['fromAssigneeId', 'toAssigneeId', 'referents', 'retour']);
    // The backlog the form was on (its team filter), never a page elsewhere.
    const back = backlogPath(values.retour) ?? '/';
    const ok =
      uuid.safeParse(values.fromAssigneeId).success && uuid.safeParse(values.toAssigneeId).success;
    if (!ok || values.fromAssigneeId === values.toAssigneeId)
      return redirect(req, res, back, {
        type: 'error',
        message: 'Choisissez deux personnes différentes : celle qui part et celle qui reprend.',
      });
    await move(req, res, back, {
      toAssigneeId: values.toAssigneeId,
      fromAssigneeId: values.fromAssigneeId,
      referents: values.referents === '1',
    });
  });

  return r;
}
