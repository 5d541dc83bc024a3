import type { FollowUpView as FollowUp } from '../../features/follow-ups/follow-up-service';
import type { Notification } from '../../features/notifications/notification-repository';
import type { Page } from '../../lib/validate';
import { formatDateTime, localPath, parisDay, parseParisLocal, plural } from '../format';
import {
  Csrf,
  emptyForm,
  ErrorSummary,
  Pagination,
  StaleAlert,
  TextField,
  type FormState,
} from './components';
import { Layout, type PageContext } from './layout';
import { restoredForm } from '../kept-form';

/**
 * A follow-up form sent back to the page it came from: which follow-up and which of its forms,
 * what was typed, the mistakes, and, when someone changed or closed the follow-up meanwhile
 * (nothing saved), what to tell the user.
 */
export interface FollowUpAttempt {
  id: string;
  action: 'terminer' | 'reporter';
  form: FormState;
  stale?: string;
}

export const COMPLETE_LABELS: Record<string, string> = { note: 'Note courte' };

/**
 * A follow-up's form kept when its session ended (server/web/kept-form.ts), as the attempt this
 * page shows, when the follow-up is one of the page's (`listed`).
 */
export function restoredAttempt(
  ctx: PageContext,
  listed: readonly { id: string }[],
): FollowUpAttempt | undefined {
  const id = /^\/suivis\/([0-9a-f-]{36})$/.exec(ctx.kept?.action ?? '')?.[1];
  const action = ctx.kept?.values.action;
  if (!id || !listed.some((f) => f.id === id)) return undefined;
  if (action !== 'terminer' && action !== 'reporter') return undefined;
  const form = restoredForm(ctx, `/suivis/${id}`, `#suivi-${id}`);
  return form && { id, action, form };
}

/** The attempt's form if it is this follow-up's `action` form, else an empty one. */
export const attemptForm = (
  attempt: FollowUpAttempt | undefined,
  followUp: FollowUp,
  action: FollowUpAttempt['action'],
): { form: FormState; stale?: string } =>
  attempt?.id === followUp.id && attempt.action === action
    ? { form: attempt.form, stale: attempt.stale }
    : { form: emptyForm() };

/** A follow-up's form sent back after a 409: what happened, and that nothing typed is lost. */
function StaleFollowUp({ message }: { message: string }) {
  return (
    <StaleAlert title="Ce suivi a été modifié pendant que vous le changiez">
      <p>
        {message} Ce que vous aviez saisi est conservé ci-dessous : vérifiez le suivi tel qu’il est
        maintenant, puis validez à nouveau si c’est toujours utile.
      </p>
    </StaleAlert>
  );
}

/**
 * A sent-back attempt whose follow-up the page no longer lists (done, cancelled or handed to
 * someone else meanwhile): said at the top, with the note that was typed, so it is not lost.
 */
export function UnlistedAttempt({
  attempt,
  listed,
}: {
  attempt?: FollowUpAttempt;
  listed: FollowUp[];
}) {
  // Listed and still the user's to change: its own form shows the attempt.
  if (!attempt?.stale || listed.some((f) => f.id === attempt.id && f.canChange)) return null;
  const note = attempt.form.values.note?.trim();
  const dueAt = attempt.form.values.dueAt?.trim();
  const typedDate = dueAt ? parseParisLocal(dueAt) : null;
  return (
    <StaleAlert title="Ce suivi a été modifié pendant que vous le changiez">
      <p>{attempt.stale}</p>
      {note ? (
        <p>
          La note que vous aviez saisie n’a pas été enregistrée ; la voici pour la reporter où il
          faut : « {note} »
        </p>
      ) : null}
      {dueAt ? (
        <p>
          La nouvelle date que vous aviez saisie n’a pas été enregistrée :{' '}
          {typedDate ? formatDateTime(typedDate) : dueAt}.
        </p>
      ) : null}
    </StaleAlert>
  );
}

/**
 * What each form of a follow-up starts with: the action it asks for, where to come back, the
 * version shown (a change made since answers 409 with the typing kept), and a sent-back
 * attempt's warning and mistakes.
 */
export function FollowUpFormHead({
  ctx,
  followUp,
  action,
  returnTo,
  attempt,
  labels,
  idPrefix,
}: {
  ctx: PageContext;
  followUp: FollowUp;
  action: FollowUpAttempt['action'];
  returnTo: string;
  attempt: { form: FormState; stale?: string };
  labels: Record<string, string>;
  idPrefix: string;
}) {
  return (
    <>
      <Csrf token={ctx.csrfToken} />
      <input type="hidden" name="action" value={action} />
      <input type="hidden" name="retour" value={returnTo} />
      <input type="hidden" name="version" value={String(followUp.version)} />
      {attempt.stale ? <StaleFollowUp message={attempt.stale} /> : null}
      <ErrorSummary form={attempt.form} labels={labels} idPrefix={idPrefix} />
    </>
  );
}

export function CompleteButton({
  ctx,
  followUp,
  returnTo,
  attempt,
}: {
  ctx: PageContext;
  followUp: FollowUp;
  returnTo: string;
  attempt?: FollowUpAttempt;
}) {
  const sent = attemptForm(attempt, followUp, 'terminer');
  const { form } = sent;
  const prefix = `fait-${followUp.id}-`;
  return (
    <form method="post" action={`/suivis/${followUp.id}`} class="av-inline-form" novalidate>
      <FollowUpFormHead
        ctx={ctx}
        followUp={followUp}
        action="terminer"
        returnTo={returnTo}
        attempt={sent}
        labels={COMPLETE_LABELS}
        idPrefix={prefix}
      />
      <TextField
        form={form}
        idPrefix={prefix}
        name="note"
        label={
          <>
            Note courte (facultative)<span class="fr-sr-only"> : {followUp.title}</span>
          </>
        }
        hint="280 caractères au plus"
        autocomplete="off"
        maxLength={280}
      />
      <button
        type="submit"
        class="fr-btn fr-btn--sm fr-btn--secondary fr-icon-check-line fr-btn--icon-left"
      >
        Marquer comme fait<span class="fr-sr-only"> : {followUp.title}</span>
      </button>
    </form>
  );
}

function FollowUpList({
  ctx,
  items,
  emptyText,
  returnTo,
  attempt,
}: {
  ctx: PageContext;
  items: FollowUp[];
  emptyText: string;
  returnTo: string;
  attempt?: FollowUpAttempt;
}) {
  if (items.length === 0) return <p class="fr-text--sm">{emptyText}</p>;
  return (
    <ul class="av-list">
      {items.map((f) => (
        <li class="av-item" id={`suivi-${f.id}`}>
          <div>
            <p class="fr-text--bold fr-mb-1v">{f.title}</p>
            <p class="fr-text--sm fr-mb-1v">
              <a href={`/personnes/${f.personId}`}>{f.personLabel || 'Personne sans nom'}</a>
              {' · '}
              {f.overdue ? (
                <span class="fr-badge fr-badge--sm fr-badge--error">En retard</span>
              ) : null}{' '}
              prévu le {formatDateTime(f.dueAt)}
            </p>
          </div>
          <CompleteButton ctx={ctx} followUp={f} returnTo={returnTo} attempt={attempt} />
        </li>
      ))}
    </ul>
  );
}

/** The address of a page of "Mes actions": at the root for workers, /mes-actions for managers. */
export const actionsPageHref = (page: number, base = '/') =>
  page === 1 ? base : `${base}?page=${page}`;

export function ActionsPage({
  ctx,
  followUps,
  notifications,
  now,
  base = '/',
  attempt,
}: {
  ctx: PageContext;
  /** A "done" form sent back (a note too long, or the follow-up changed meanwhile). */
  attempt?: FollowUpAttempt;
  /** Where the page lives (a manager's home is the team's backlog). */
  base?: string;
  /** One page of the worker's open follow-ups, oldest due first. */
  followUps: Page<FollowUp>;
  notifications: Notification[];
  now: Date;
}) {
  const { items, total, page, pageSize } = followUps;
  const paged = total > pageSize;
  const href = (p: number) => actionsPageHref(p, base);
  const here = href(page);
  const today = parisDay(now);
  const overdue = items.filter((f) => f.overdue);
  const dueToday = items.filter((f) => !f.overdue && parisDay(f.dueAt) === today);
  const later = items.filter((f) => !f.overdue && parisDay(f.dueAt) > today);
  return (
    <Layout
      title="Mes actions"
      hasErrors={Object.keys(attempt?.form.errors ?? {}).length > 0}
      ctx={ctx}
      nav="actions"
    >
      <div class="av-title-row">
        <h1>Mes actions</h1>
        <a class="fr-btn fr-icon-user-add-line fr-btn--icon-left" href="/personnes/nouvelle">
          Nouvelle personne
        </a>
      </div>
      <UnlistedAttempt attempt={attempt} listed={items} />
      {paged ? (
        // Counts by group would only be this page's: say how many there are and where we are.
        <p class="fr-text--lead">
          {plural(total, 'suivi à faire', 'suivis à faire')} : cette page montre les suivis{' '}
          {(page - 1) * pageSize + 1} à {(page - 1) * pageSize + items.length}, du plus ancien au
          plus lointain.
        </p>
      ) : (
        <p class="fr-text--lead">
          {overdue.length + dueToday.length === 0
            ? 'Rien en retard ni prévu aujourd’hui.'
            : `${plural(overdue.length, 'suivi en retard', 'suivis en retard')}, ${plural(dueToday.length, 'prévu', 'prévus')} aujourd’hui.`}
        </p>
      )}
      <div class="fr-grid-row fr-grid-row--gutters">
        <div class="fr-col-12 fr-col-lg-8">
          <section class="fr-mb-4w" aria-labelledby="en-retard">
            <h2 id="en-retard" class="fr-h4">
              En retard ({overdue.length})
            </h2>
            <FollowUpList
              ctx={ctx}
              returnTo={here}
              attempt={attempt}
              items={overdue}
              emptyText="Aucun suivi en retard."
            />
          </section>
          <section class="fr-mb-4w" aria-labelledby="aujourdhui">
            <h2 id="aujourdhui" class="fr-h4">
              Aujourd’hui ({dueToday.length})
            </h2>
            <FollowUpList
              ctx={ctx}
              returnTo={here}
              attempt={attempt}
              items={dueToday}
              emptyText="Aucun suivi prévu aujourd’hui."
            />
          </section>
          <section class="fr-mb-4w" aria-labelledby="a-venir">
            <h2 id="a-venir" class="fr-h4">
              À venir ({later.length})
            </h2>
            <FollowUpList
              ctx={ctx}
              returnTo={here}
              attempt={attempt}
              items={later}
              emptyText="Aucun suivi planifié. Planifiez-en un depuis la fiche d’une personne."
            />
          </section>
          <Pagination
            page={page}
            total={total}
            pageSize={pageSize}
            href={href}
            label="Pages de mes suivis"
          />
        </div>
        <div class="fr-col-12 fr-col-lg-4">
          <section aria-labelledby="non-lues">
            <h2 id="non-lues" class="fr-h4">
              Notifications non lues ({ctx.unread})
            </h2>
            {notifications.length === 0 ? (
              <p class="fr-text--sm">Aucune notification non lue.</p>
            ) : (
              <ul class="av-list">
                {notifications.map((n) => (
                  <li class="av-item av-item--stack">
                    <p class="fr-mb-1v">
                      {localPath(n.link) ? <a href={localPath(n.link)!}>{n.title}</a> : n.title}
                    </p>
                    <p class="fr-text--xs fr-mb-0">{formatDateTime(n.createdAt)}</p>
                  </li>
                ))}
              </ul>
            )}
            <p>
              <a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/notifications">
                Toutes les notifications
              </a>
            </p>
          </section>
        </div>
      </div>
    </Layout>
  );
}
