import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { updateFollowUpBody } from '../../features/follow-ups/follow-up-schemas';
import { hasCode, NotFoundError, ValidationError } from '../../lib/errors';
import { dateField, formFromServiceError, parseWith, RESCHEDULE_MESSAGES } from '../forms';
import { localPath } from '../format';
import { csrf, pageContext } from '../page-context';
import {
  actorOf,
  idOf,
  LIST_PAGE_SIZE,
  pageQuery,
  redirect,
  redirectPastLastPage,
  staff,
} from '../page-helpers';
import type { RenderPerson } from '../persons/person-file-router';
import { renderBacklog } from '../backlog/backlog-web-router';
import { sendPage } from '../render';
import { ActionsPage, actionsPageHref } from '../views/actions-page';
import { renderObservation } from '../observation/observation-web-router';
import { homeFor } from '../../auth/actor';
import { isAuthenticated } from '../../auth/policies';

type Services = Deps['services'];

/**
 * "Mes actions" (the follow-ups assigned to the user) and the completing or rescheduling of a
 * follow-up, from there or from a person's file (whose page a mistake is shown on).
 */
export function followUpWebRouter(
  services: Services,
  now: () => Date,
  renderPerson: RenderPerson,
): Router {
  const r = Router();

  // ---- Home: each role's own page at the root, never a 403 -----------------------------------
  // Managers: the team's backlog; workers: "Mes actions"; partners: their inbox; admins: the
  // administration; observers: the observation dashboard.
  r.get('/', isAuthenticated(), async (req, res) => {
    const { role } = actorOf(req);
    if (role === 'manager') return renderBacklog(services, req, res);
    if (role === 'worker') return renderActions(req, res);
    if (role === 'partner' || role === 'admin') return res.redirect(303, homeFor(role));
    return renderObservation(services, req, res, '/');
  });
  // A manager's own follow-ups, where a worker's are at the root.
  r.get('/mes-actions', staff(), renderActions);

  async function renderActions(req: Request, res: Response) {
    const actor = actorOf(req);
    const q = pageQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    const [followUps, notes, ctx] = await Promise.all([
      services.followUps.list(
        actor,
        { assignee: 'me', status: 'open', page: q.data.page, pageSize: LIST_PAGE_SIZE },
        requestContext(req),
      ),
      services.notifications.list(actor.id, { unread: true, page: 1, pageSize: 5 }),
      // The unread count comes with the list just above: no second count query.
      pageContext(req, null),
    ]);
    const base = actor.role === 'manager' ? '/mes-actions' : '/';
    const href = (p: number) => actionsPageHref(p, base);
    if (await redirectPastLastPage(req, res, followUps, href, ctx.flash)) return;
    ctx.unread = notes.unread;
    sendPage(
      res,
      <ActionsPage
        ctx={ctx}
        followUps={followUps}
        notifications={notes.items}
        now={now()}
        base={base}
      />,
    );
  }

  // ---- Follow-up: complete or reschedule ------------------------------------------------------
  const followUpForm = z
    .object({
      _csrf: z.string(),
      action: z.enum(['terminer', 'reporter', 'rouvrir']),
      retour: z.string().optional(),
      dueAt: z.string().optional(),
      allowPast: z.literal('1').optional(),
      note: z.string().optional(),
    })
    .strict();

  r.post('/suivis/:id', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    const actor = actorOf(req);
    const body = followUpForm.safeParse(req.body ?? {});
    if (!body.success) {
      throw new ValidationError('Invalid body', [{ field: 'action', message: 'Action inconnue' }]);
    }
    const returnTo = localPath(body.data.retour) ?? '/';
    const personMatch = /^\/personnes\/([0-9a-f-]{36})$/.exec(returnTo);
    const values = { dueAt: body.data.dueAt ?? '', allowPast: body.data.allowPast ?? '' };
    let input: z.infer<typeof updateFollowUpBody>;
    if (body.data.action === 'terminer') {
      const note = body.data.note?.trim().slice(0, 280);
      input = note ? { status: 'done', note } : { status: 'done' };
    } else if (body.data.action === 'rouvrir') {
      input = { status: 'open' };
    } else {
      const errors: Record<string, string> = {};
      const dueAt = dateField(values, 'dueAt', errors, RESCHEDULE_MESSAGES.dueAt, true);
      const parsed = parseWith(
        updateFollowUpBody,
        { dueAt: dueAt ?? '', ...(body.data.allowPast ? { allowPast: true } : {}) },
        values,
        RESCHEDULE_MESSAGES,
        errors,
      );
      if (!parsed.ok) {
        if (personMatch) {
          return renderPerson(
            req,
            res,
            personMatch[1],
            { reschedule: { id, form: parsed.form } },
            400,
          );
        }
        return redirect(req, res, returnTo, {
          type: 'error',
          message: RESCHEDULE_MESSAGES.dueAt,
        });
      }
      input = parsed.data;
    }
    try {
      const f = await services.followUps.update(actor, id, input, requestContext(req));
      await redirect(req, res, returnTo, {
        type: 'success',
        message:
          body.data.action === 'terminer'
            ? `Suivi « ${f.title} » marqué comme fait.`
            : body.data.action === 'rouvrir'
              ? `Suivi « ${f.title} » rouvert.`
              : `Suivi « ${f.title} » reporté.`,
        // Done by mistake: taken back from the message itself.
        undo:
          body.data.action === 'terminer'
            ? {
                action: `/suivis/${id}`,
                fields: { action: 'rouvrir', retour: returnTo },
                label: `Annuler : rouvrir « ${f.title} »`,
              }
            : undefined,
      });
    } catch (err) {
      // A date the rules refuse (in the past, unconfirmed): said by the field, what was typed kept.
      const refused = formFromServiceError(err, values, RESCHEDULE_MESSAGES);
      if (refused) {
        if (personMatch) {
          return renderPerson(req, res, personMatch[1], { reschedule: { id, form: refused } }, 400);
        }
        return redirect(req, res, returnTo, {
          type: 'error',
          message: Object.values(refused.errors)[0],
        });
      }
      // A colleague's follow-up (its buttons are not shown, but a page may be stale): the
      // refusal is said on the page the user came from, not as a 403 page.
      if (hasCode(err, 'forbidden')) {
        return redirect(req, res, returnTo, {
          type: 'error',
          message:
            'Vous ne pouvez pas modifier ce suivi : seul·e la personne à qui il est confié, celle qui l’a planifié ou un·e cadre le peut.',
        });
      }
      if (!hasCode(err, 'stale_version', 'invalid_transition')) throw err;
      await redirect(req, res, returnTo, {
        type: 'error',
        message: 'Ce suivi a déjà été fait ou annulé entre-temps ; la page est à jour.',
      });
    }
  });

  return r;
}
