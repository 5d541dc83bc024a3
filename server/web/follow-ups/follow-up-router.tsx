import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { updateFollowUpBody } from '../../features/follow-ups/follow-up-schemas';
import { hasCode, NotFoundError, ValidationError } from '../../lib/errors';
import {
  ANONYMISED_TEXT,
  COMPLETE_MESSAGES,
  dateField,
  formFromServiceError,
  parseWith,
  RESCHEDULE_MESSAGES,
  versionField,
} from '../forms';
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
import {
  ActionsPage,
  actionsPageHref,
  restoredAttempt,
  type FollowUpAttempt,
} from '../views/actions-page';
import type { FormState } from '../views/components';
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
  r.get('/mes-actions', staff(), (req, res) => renderActions(req, res));

  /**
   * "Mes actions", page `page` (the address's own when not given), with a "done" form sent
   * back (`attempt`) when there is one.
   */
  async function renderActions(
    req: Request,
    res: Response,
    sentBack?: { page: number; attempt: FollowUpAttempt; status: number },
  ) {
    const actor = actorOf(req);
    let page = sentBack?.page;
    if (page === undefined) {
      const q = pageQuery.safeParse(req.query);
      if (!q.success) throw new NotFoundError('Page');
      page = q.data.page;
    }
    const [followUps, notes, ctx] = await Promise.all([
      services.followUps.list(
        actor,
        { assignee: 'me', status: 'open', page, pageSize: LIST_PAGE_SIZE },
        requestContext(req),
      ),
      services.notifications.list(actor.id, { unread: true, page: 1, pageSize: 5 }),
      // The unread count comes with the list just above: no second count query.
      pageContext(req, null),
    ]);
    const base = actor.role === 'manager' ? '/mes-actions' : '/';
    const href = (p: number) => actionsPageHref(p, base);
    // A form sent back is shown where it was typed, never behind a redirect that would drop it.
    if (!sentBack && (await redirectPastLastPage(req, res, followUps, href, ctx.flash))) return;
    ctx.unread = notes.unread;
    sendPage(
      res,
      <ActionsPage
        ctx={ctx}
        followUps={followUps}
        notifications={notes.items}
        now={now()}
        base={base}
        attempt={sentBack?.attempt ?? restoredAttempt(ctx, followUps.items)}
      />,
      sentBack?.status,
    );
  }

  // ---- Follow-up: complete, reschedule or reopen ----------------------------------------------
  const followUpForm = z
    .object({
      _csrf: z.string(),
      action: z.enum(['terminer', 'reporter', 'rouvrir']),
      retour: z.string().optional(),
      dueAt: z.string().optional(),
      allowPast: z.literal('1').optional(),
      note: z.string().optional(),
      // The version the page showed (checked by the service: 409 if the follow-up moved since).
      version: z.string().optional(),
    })
    .strict();

  /** The page a follow-up's form is on: a person's file, or a page of "Mes actions". */
  function formPage(returnTo: string): { personId: string } | { actionsPage: number } | null {
    const person = /^\/personnes\/([0-9a-f-]{36})$/.exec(returnTo);
    if (person) return { personId: person[1] };
    const actions = /^\/(?:mes-actions)?(?:\?page=(\d{1,6}))?$/.exec(returnTo);
    return actions ? { actionsPage: Number(actions[1] ?? 1) } : null;
  }

  r.post('/suivis/:id', staff(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    const actor = actorOf(req);
    const body = followUpForm.safeParse(req.body ?? {});
    if (!body.success) {
      throw new ValidationError('Invalid body', [{ field: 'action', message: 'Action inconnue' }]);
    }
    const { action } = body.data;
    const returnTo = localPath(body.data.retour) ?? '/';
    const page = formPage(returnTo);
    const values = {
      dueAt: body.data.dueAt ?? '',
      allowPast: body.data.allowPast ?? '',
      note: body.data.note ?? '',
    };
    const version = versionField(body.data);

    /** The form shown again on its page with what was typed; elsewhere, said in a message. */
    const sendBack = async (attempt: FollowUpAttempt, status: number, message: string) => {
      if (page && 'personId' in page)
        return renderPerson(req, res, page.personId, { followUp: attempt }, status);
      if (page) return renderActions(req, res, { page: page.actionsPage, attempt, status });
      return redirect(req, res, returnTo, { type: 'error', message });
    };

    let parsed: ReturnType<typeof parseWith<typeof updateFollowUpBody>>;
    if (action === 'terminer') {
      const note = values.note.trim() ? { note: values.note } : {};
      parsed = parseWith(
        updateFollowUpBody,
        { status: 'done', ...note, ...version },
        { note: values.note },
        COMPLETE_MESSAGES,
      );
    } else if (action === 'rouvrir') {
      parsed = parseWith(updateFollowUpBody, { status: 'open', ...version }, {}, {});
    } else {
      const errors: Record<string, string> = {};
      const dueAt = dateField(values, 'dueAt', errors, RESCHEDULE_MESSAGES.dueAt, true);
      parsed = parseWith(
        updateFollowUpBody,
        { dueAt: dueAt ?? '', ...(body.data.allowPast ? { allowPast: true } : {}), ...version },
        { dueAt: values.dueAt, allowPast: values.allowPast },
        RESCHEDULE_MESSAGES,
        errors,
      );
    }
    if (!parsed.ok) {
      const message = Object.values(parsed.form.errors)[0];
      if (action === 'rouvrir') return redirect(req, res, returnTo, { type: 'error', message });
      return sendBack({ id, action, form: parsed.form }, 400, message);
    }
    const typed: FormState = {
      values: action === 'terminer' ? { note: values.note } : values,
      errors: {},
    };
    try {
      const f = await services.followUps.update(actor, id, parsed.data, requestContext(req));
      await redirect(req, res, returnTo, {
        type: 'success',
        message:
          action === 'terminer'
            ? `Suivi « ${f.title} » marqué comme fait.`
            : action === 'rouvrir'
              ? `Suivi « ${f.title} » rouvert.`
              : `Suivi « ${f.title} » reporté.`,
        // Done by mistake: taken back from the message itself, at the version it was done at.
        undo:
          action === 'terminer'
            ? {
                action: `/suivis/${id}`,
                fields: { action: 'rouvrir', retour: returnTo, version: String(f.version) },
                label: `Annuler : rouvrir « ${f.title} »`,
              }
            : undefined,
      });
    } catch (err) {
      // A date the rules refuse (in the past, unconfirmed): said by the field, what was typed kept.
      const refused =
        action === 'reporter' && formFromServiceError(err, values, RESCHEDULE_MESSAGES);
      if (refused)
        return sendBack({ id, action, form: refused }, 400, Object.values(refused.errors)[0]);
      // A colleague's follow-up (its buttons are not shown, but a page may be stale): the
      // refusal is said on the page the user came from, not as a 403 page.
      if (hasCode(err, 'forbidden')) {
        return redirect(req, res, returnTo, {
          type: 'error',
          message:
            'Vous ne pouvez pas modifier ce suivi : seul·e la personne à qui il est confié, celle qui l’a planifié ou un·e cadre le peut.',
        });
      }
      if (hasCode(err, 'anonymised')) {
        if (action === 'rouvrir')
          return redirect(req, res, returnTo, { type: 'error', message: ANONYMISED_TEXT });
        // Its follow-ups were cancelled with it: said as a change made meanwhile, typing kept.
        return sendBack({ id, action, form: typed, stale: ANONYMISED_TEXT }, 409, ANONYMISED_TEXT);
      }
      if (!hasCode(err, 'stale_version', 'invalid_transition')) throw err;
      const stale =
        err.code === 'stale_version'
          ? 'Quelqu’un d’autre l’a modifié depuis que vous avez ouvert la page : rien n’a été enregistré.'
          : 'Il a déjà été fait, annulé ou rouvert entre-temps : rien n’a été enregistré.';
      // Reopening types nothing: the page, up to date, says it.
      if (action === 'rouvrir')
        return redirect(req, res, returnTo, { type: 'error', message: `Ce suivi : ${stale}` });
      return sendBack({ id, action, form: typed, stale }, 409, stale);
    }
  });

  return r;
}
