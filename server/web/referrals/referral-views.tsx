import type { ComponentChildren } from 'preact';
import type { TimelineItem } from '../../features/persons/timeline-service';
import type { Consent } from '../../features/consents/consent-repository';
import { CONSENT_METHODS, SHAREABLE_FIELDS } from '../../features/consents/consent-schemas';
import type { Partner } from '../../features/partners/partner-repository';
import type { PartnerReferral, Referral } from '../../features/referrals/referral-repository';
import {
  REASON_REQUIRED,
  REJECTION_REASON_LABELS,
  STATUS_LABELS,
  TRANSITIONS,
  actsForRequester,
  mayMove,
  type ReferralStatus,
  type RejectionReason,
  type RequesterSide,
} from '../../features/referrals/referral-state';
import { linkPurposeFor } from '../../features/referrals/referral-link-service';
import type { Right } from '../../features/rights/right-repository';
import type { RightUpdateForm } from '../../features/rights/right-schemas';
import { formatDate, formatDateTime } from '../format';
import { personRightHref } from '../rights/right-views';
import {
  CheckboxGroup,
  Csrf,
  OnceKey,
  emptyForm,
  ErrorSummary,
  Pagination,
  RangeNote,
  SelectField,
  Section,
  TextArea,
  TextField,
  type FormState,
  StaleAlert,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import type { Page } from '../../lib/validate';

const TRANSITION_LABELS: Record<Exclude<ReferralStatus, 'requested'>, string> = {
  accepted: 'Accepter',
  rejected: 'Refuser',
  in_progress: 'Démarrer l’accompagnement',
  on_hold: 'Mettre en pause',
  completed: 'Aide apportée',
  failed: 'Aide impossible',
  cancelled: 'Annuler la demande',
  expired: 'Expirer',
};

/** What each move's box is for, as its legend says it. */
const MOVE_LEGENDS: Record<Exclude<ReferralStatus, 'requested'>, string> = {
  accepted: 'Accepter la demande',
  rejected: 'Refuser la demande',
  in_progress: 'Commencer l’accompagnement',
  on_hold: 'Mettre l’accompagnement en pause',
  completed: 'Clore : l’aide a été apportée',
  failed: 'Clore : l’aide n’a pas pu être apportée',
  cancelled: 'Annuler la demande',
  expired: 'Expirer la demande',
};

const REASON_CODE_LABELS: Record<string, string> = {
  ...REJECTION_REASON_LABELS,
  consent_revoked: 'Consentement retiré',
  sla_passed: 'Délai de réponse dépassé',
  person_anonymised: 'Fiche anonymisée (durée de conservation atteinte)',
};

const METHOD_LABELS: Record<string, string> = { oral: 'Oral', written: 'Écrit' };
const FIELD_LABELS: Record<string, string> = {
  phone: 'Téléphone',
  email: 'Courriel',
  address: 'Adresse',
};

function ReferralBadge({ status }: { status: ReferralStatus }) {
  const tone =
    status === 'completed' || status === 'accepted' || status === 'in_progress'
      ? 'fr-badge--success'
      : status === 'requested' || status === 'on_hold'
        ? 'fr-badge--info'
        : 'fr-badge--warning';
  return <span class={`fr-badge fr-badge--sm ${tone}`}>{STATUS_LABELS[status]}</span>;
}

type AnyReferral = Referral | PartnerReferral;

/** What the person agreed to share with the partner: name or alias and the consented details. */
export function SharedPersonDetails({
  person,
  nameLabel,
}: {
  person: PartnerReferral['person'];
  nameLabel: string;
}) {
  const rows: [string, string | null | undefined][] = [
    ['Téléphone', person.phone],
    ['Courriel', person.email],
    ['Adresse', person.address],
  ];
  return (
    <>
      <dt>{nameLabel}</dt>
      <dd>{person.displayName}</dd>
      {rows.map(([label, value]) =>
        value ? (
          <>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </>
        ) : null,
      )}
    </>
  );
}
const isStaffView = (r: AnyReferral): r is Referral => 'personId' in r;

function History({ r }: { r: AnyReferral }) {
  return (
    <ol class="av-list">
      {r.events.map((e) => (
        <li class="av-item av-item--stack">
          <p class="fr-mb-1v">
            <strong>{STATUS_LABELS[e.toStatus]}</strong> le {formatDateTime(e.at)}
            {'actorName' in e && e.actorName ? ` · par ${e.actorName}` : ''}
            {'actorKind' in e && e.actorKind === 'link' ? ' · par le partenaire (lien)' : ''}
            {e.reasonCode ? ` · ${REASON_CODE_LABELS[e.reasonCode] ?? e.reasonCode}` : ''}
          </p>
          {'note' in e && e.note ? <p class="fr-text--sm fr-mb-0 av-pre">{e.note}</p> : null}
        </li>
      ))}
    </ol>
  );
}

/** The moves this actor may make from the current status: the service's own rule. */
function movesFor(actor: { role: string; id: string }, r: AnyReferral, side: RequesterSide) {
  return TRANSITIONS[r.status].filter(
    (to): to is Exclude<ReferralStatus, 'requested'> =>
      to !== 'requested' && mayMove(actor, side, to),
  );
}

/** A move the user tried and the service or the form refused, shown back on its form. */
export interface MoveAttempt {
  to: string;
  /** A stale one: the referral changed since the page was read (409 on its version). */
  form: FormState;
}

export const MOVE_LABELS = { reason: 'Raison', outcome: 'Résultat' };

/**
 * A move decided on a page the referral has since left: where it is now, and what was typed,
 * kept in its form when that move is still offered, quoted here when it no longer is.
 */
function StaleMoveAlert({
  r,
  move,
  offered,
}: {
  r: AnyReferral;
  move: MoveAttempt;
  offered: boolean;
}) {
  const to = move.to as Exclude<ReferralStatus, 'requested'>;
  const action = TRANSITION_LABELS[to] ?? move.to;
  const { reason, outcome } = move.form.values;
  const typed: [string, string][] = [];
  if (reason?.trim())
    typed.push([
      to === 'rejected' ? 'Motif du refus' : 'Raison',
      REJECTION_REASON_LABELS[reason as RejectionReason] ?? reason,
    ]);
  if (outcome?.trim()) typed.push(['Résultat', outcome]);
  return (
    <StaleAlert heading title="Cette demande a été modifiée pendant que vous répondiez">
      <p>
        Son statut est maintenant : <strong>{STATUS_LABELS[r.status]}</strong>. Votre action «{' '}
        {action} » n’a pas été enregistrée.
      </p>
      {offered ? (
        <p>
          {typed.length ? 'Ce que vous aviez saisi est conservé dans le formulaire. ' : ''}
          Vérifiez l’historique, puis validez à nouveau si votre réponse tient toujours.
        </p>
      ) : (
        <>
          <p>« {action} » n’est plus possible depuis ce statut.</p>
          {typed.length ? (
            <>
              <p class="fr-mb-1v">Ce que vous aviez saisi :</p>
              <ul>
                {typed.map(([label, value]) => (
                  <li>
                    {label} : <span class="av-pre">{value}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      )}
    </StaleAlert>
  );
}

function MoveForm({
  ctx,
  r,
  to,
  form,
}: {
  ctx: PageContext;
  r: AnyReferral;
  to: Exclude<ReferralStatus, 'requested'>;
  form: FormState;
}) {
  const idPrefix = `move-${to}-`;
  const label = TRANSITION_LABELS[to];
  // One box per move, its legend naming it, so each field sits visibly with its own button.
  return (
    <form method="post" action={`/orientations/${r.id}/transition`} class="av-move" novalidate>
      <Csrf token={ctx.csrfToken} />
      <input type="hidden" name="to" value={to} />
      {/* The version this page shows: a move decided on it is refused once the referral moved. */}
      <input type="hidden" name="version" value={String(r.version)} />
      <fieldset class="fr-fieldset fr-mb-0">
        <legend class="fr-fieldset__legend">{MOVE_LEGENDS[to]}</legend>
        {to === 'rejected' ? (
          <div class="fr-fieldset__element">
            <SelectField
              form={form}
              idPrefix={idPrefix}
              name="reason"
              label="Motif du refus"
              required
              placeholder="— Choisir un motif —"
              options={REJECTION_REASON_LABELS}
            />
          </div>
        ) : REASON_REQUIRED.includes(to) ? (
          <div class="fr-fieldset__element">
            <TextField
              form={form}
              idPrefix={idPrefix}
              name="reason"
              label={`Raison (${label.toLowerCase()})`}
              required
            />
          </div>
        ) : null}
        {to === 'completed' || to === 'failed' ? (
          <div class="fr-fieldset__element">
            <TextField
              form={form}
              idPrefix={idPrefix}
              name="outcome"
              label="Résultat (facultatif)"
            />
          </div>
        ) : null}
        <div class="fr-fieldset__element fr-mb-0">
          <button
            class={`fr-btn fr-btn--sm${to === 'rejected' || to === 'cancelled' || to === 'failed' ? ' fr-btn--secondary' : ''}`}
            type="submit"
          >
            {label}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

/**
 * The address of a page of the referral list with its filters, as the filter form sends them
 * (page 1 without a page number).
 */
export const referralListHref =
  (filters: { mine: boolean; status: string }) =>
  (page: number): string => {
    const q = new URLSearchParams();
    if (filters.mine) q.set('mine', 'true');
    if (filters.status) q.set('status', filters.status);
    if (page > 1) q.set('page', String(page));
    const query = q.toString();
    return query ? `/orientations?${query}` : '/orientations';
  };

export function ReferralListPage({
  ctx,
  list,
  mine,
  status,
  hasErrors = false,
  children,
}: {
  ctx: PageContext;
  /** One page of the list, newest first (`LIST_PAGE_SIZE` a page). */
  list: Page<AnyReferral>;
  mine: boolean;
  status: string;
  /** A form of the page (a partner's report) came back refused: the title says so first. */
  hasErrors?: boolean;
  /** What else the inbox offers (a partner's report form and receipts). */
  children?: ComponentChildren;
}) {
  const partner = ctx.actor?.role === 'partner';
  const title = partner ? 'Demandes reçues' : 'Orientations';
  const { items, total } = list;
  return (
    <Layout title={`${title}`} hasErrors={hasErrors} ctx={ctx} nav="referrals">
      <h1>{title}</h1>
      <form method="get" action="/orientations" class="fr-mb-3w av-filters">
        {partner ? null : (
          <div class="fr-checkbox-group fr-mb-2w">
            <input type="checkbox" id="mine" name="mine" value="true" checked={mine} />
            <label class="fr-label" for="mine">
              Seulement mes demandes
            </label>
          </div>
        )}
        <div class="fr-select-group">
          <label class="fr-label" for="status">
            Statut
          </label>
          <select class="fr-select" id="status" name="status">
            <option value="">Tous</option>
            {(Object.keys(STATUS_LABELS) as ReferralStatus[]).map((s) => (
              <option value={s} selected={s === status}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <button class="fr-btn fr-btn--secondary fr-btn--sm" type="submit">
          Filtrer
        </button>
      </form>
      <p>
        {total} demande{total > 1 ? 's' : ''}
      </p>
      <RangeNote
        page={list.page}
        total={total}
        pageSize={list.pageSize}
        shown={items.length}
        noun="De la plus récente à la plus ancienne : demandes"
      />
      {items.length === 0 ? (
        <p>Aucune demande.</p>
      ) : (
        <ul class="av-list">
          {items.map((r) => (
            <li class="av-item av-item--stack">
              <p class="fr-mb-1v">
                <a href={`/orientations/${r.id}`}>
                  {r.person.displayName} → {r.partner.name}
                  {r.service ? ` (${r.service.name})` : ''}
                </a>{' '}
                <ReferralBadge status={r.status} />
              </p>
              <p class="fr-text--sm fr-mb-0">
                Demandée le {formatDate(r.createdAt)}
                {'structure' in r ? ` par ${r.structure.name}` : ''}
                {r.requester ? ` · ${r.requester.name}` : ''}
              </p>
            </li>
          ))}
        </ul>
      )}
      <Pagination
        page={list.page}
        total={total}
        pageSize={list.pageSize}
        href={referralListHref({ mine, status })}
        label="Pages des demandes"
      />
      {children}
    </Layout>
  );
}

export function ReferralDetailPage({
  ctx,
  r,
  move,
  rightForms,
  requesterSide,
}: {
  ctx: PageContext;
  r: AnyReferral;
  move?: MoveAttempt;
  /**
   * Staff: who acts in the requester's name (the requester, or the référent standing in for one
   * who left); a partner's page leaves it out.
   */
  requesterSide?: RequesterSide;
  /** Staff: where the person's file updates each right it may set, for the link to update one. */
  rightForms?: ReadonlyMap<string, RightUpdateForm>;
}) {
  const side = requesterSide ?? { requesterId: null, standInId: null };
  const moves = ctx.actor ? movesFor(ctx.actor, r, side) : [];
  // A move refused (400, 422) or decided on a page the referral has since left (409).
  const hasErrors = Boolean(move?.form.stale) || Object.keys(move?.form.errors ?? {}).length > 0;
  return (
    <Layout
      title={`Orientation — ${r.person.displayName}`}
      hasErrors={hasErrors}
      ctx={ctx}
      nav="referrals"
    >
      <p class="fr-mb-2w">
        <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/orientations">
          Toutes les demandes
        </a>
      </p>
      <h1>
        Orientation de {r.person.displayName} vers {r.partner.name}
      </h1>
      {move?.form.stale ? (
        <StaleMoveAlert r={r} move={move} offered={moves.some((to) => to === move.to)} />
      ) : move ? (
        <ErrorSummary form={move.form} labels={MOVE_LABELS} idPrefix={`move-${move.to}-`} />
      ) : null}
      <p>
        <ReferralBadge status={r.status} />
      </p>
      <div class="fr-grid-row fr-grid-row--gutters">
        <div class="fr-col-12 fr-col-lg-7">
          <Section title="La demande" id="demande">
            <dl>
              {isStaffView(r) ? (
                <>
                  <dt>Personne</dt>
                  <dd>
                    <a href={`/personnes/${r.personId}`}>{r.person.displayName}</a>
                  </dd>
                </>
              ) : (
                <>
                  <dt>Adressée par</dt>
                  <dd>
                    {r.structure.name}
                    {r.requester ? ` (${r.requester.name})` : ''}
                  </dd>
                  <SharedPersonDetails person={r.person} nameLabel="Personne" />
                </>
              )}
              {r.service ? (
                <>
                  <dt>Service</dt>
                  <dd>{r.service.name}</dd>
                </>
              ) : null}
              {r.right ? (
                <>
                  <dt>Droit visé</dt>
                  <dd>{r.right.label}</dd>
                </>
              ) : null}
              <dt>Motif</dt>
              <dd class="av-pre">{r.reason}</dd>
              {r.sharedSummary ? (
                <>
                  <dt>Éléments partagés avec l’accord de la personne</dt>
                  <dd class="av-pre">{r.sharedSummary}</dd>
                </>
              ) : null}
              {r.outcome ? (
                <>
                  <dt>Résultat</dt>
                  <dd class="av-pre">{r.outcome}</dd>
                </>
              ) : null}
            </dl>
            {isStaffView(r) && rightForms ? <UpdateRightLink r={r} forms={rightForms} /> : null}
          </Section>
          {moves.length ? (
            <Section title="Répondre ou faire avancer" id="actions">
              {moves.map((to) => (
                <MoveForm
                  ctx={ctx}
                  r={r}
                  to={to}
                  form={move?.to === to ? move.form : emptyForm()}
                />
              ))}
            </Section>
          ) : null}
          {isStaffView(r) ? <ResendLinkSection ctx={ctx} r={r} side={side} /> : null}
        </div>
        <div class="fr-col-12 fr-col-lg-5">
          <Section title="Historique" id="historique">
            <History r={r} />
          </Section>
        </div>
      </div>
    </Layout>
  );
}

/**
 * For the requester, a manager or the référent standing in for a requester who left, while the
 * partner is still asked something: a fresh link by email, for a partner without an account
 * whose link expired or went astray.
 */
function ResendLinkSection({
  ctx,
  r,
  side,
}: {
  ctx: PageContext;
  r: Referral;
  side: RequesterSide;
}) {
  const purpose = linkPurposeFor(r.status);
  if (!ctx.actor || !purpose) return null;
  if (!actsForRequester(ctx.actor, side)) return null;
  return (
    <Section title="Lien du partenaire" id="lien">
      <p>
        Le partenaire sans compte répond par un lien reçu par courriel, valable 8 jours et
        utilisable une fois.{' '}
        {purpose === 'respond'
          ? 'S’il l’a perdu ou s’il a expiré, renvoyez-lui un lien pour répondre à la demande.'
          : 'S’il l’a perdu ou s’il a expiré, renvoyez-lui un lien pour indiquer si l’aide a été apportée.'}{' '}
        Le courriel part aux heures ouvrées.
      </p>
      <form method="post" action={`/orientations/${r.id}/lien`} data-submit-once>
        <Csrf token={ctx.csrfToken} />
        <button type="submit" class="fr-btn fr-btn--secondary fr-btn--sm">
          Renvoyer le lien au partenaire
        </button>
      </form>
    </Section>
  );
}

/**
 * Once the help ended (completed or failed), the referral proposes to update the right it
 * served: a link to the person's file with that right's form open (`forms`, rightUpdateForms),
 * none when the file may no longer set it (archived and never tracked).
 */
function UpdateRightLink({
  r,
  forms,
}: {
  r: Referral;
  forms: ReadonlyMap<string, RightUpdateForm>;
}) {
  if (!r.right || !['completed', 'failed'].includes(r.status)) return null;
  const form = forms.get(r.right.code);
  if (!form) return null;
  return (
    <p class="fr-text--sm fr-mb-1v">
      <a
        class="fr-link fr-icon-arrow-right-line fr-link--icon-right"
        href={personRightHref(r.personId, r.right.code, form)}
      >
        Mettre à jour le droit « {r.right.label} » de la personne
      </a>
    </p>
  );
}

export const CONSENT_LABELS = {
  partnerId: 'Partenaire',
  method: 'Recueilli',
  givenAt: 'Le',
  expiresAt: 'Valable jusqu’au',
  sharedFields: 'Coordonnées partagées',
};
export const REFERRAL_LABELS = {
  partnerId: 'Partenaire',
  serviceId: 'Service',
  rightCode: 'Droit visé',
  reason: 'Motif de l’orientation',
  sharedSummary: 'Éléments à partager',
};

/** The person file's referral and consent page. */
export function PersonReferralsPage({
  ctx,
  personId,
  personName: name,
  consents,
  referrals,
  partners,
  rights,
  rightForms,
  consentForm,
  referralForm,
}: {
  ctx: PageContext;
  personId: string;
  personName: string;
  consents: Consent[];
  /** Only what both views of a referral show is read here. */
  referrals: AnyReferral[];
  partners: Partner[];
  /** The catalogue's rights in use, for the right a referral serves. */
  rights: Right[];
  /** Where the person's file updates each right it may set, for the ended referrals' links. */
  rightForms: ReadonlyMap<string, RightUpdateForm>;
  consentForm: FormState;
  referralForm: FormState;
}) {
  const consented = new Set(
    consents.filter((c) => c.valid && c.partnerId).map((c) => c.partnerId as string),
  );
  const hasErrors =
    Object.keys(consentForm.errors).length + Object.keys(referralForm.errors).length > 0;
  return (
    <Layout title={`Orientations — ${name}`} hasErrors={hasErrors} ctx={ctx} nav="persons">
      <p class="fr-mb-2w">
        <a
          class="fr-link fr-icon-arrow-left-line fr-link--icon-left"
          href={`/personnes/${personId}`}
        >
          Retour à la fiche
        </a>
      </p>
      <h1>Orientations et consentements — {name}</h1>
      <div class="fr-grid-row fr-grid-row--gutters">
        <div class="fr-col-12 fr-col-lg-6">
          <Section title="Consentements" id="consentements">
            {consents.length === 0 ? (
              <p>Aucun consentement enregistré.</p>
            ) : (
              <ul class="av-list">
                {consents.map((c) => (
                  <li class="av-item av-item--stack">
                    <p class="fr-mb-1v">
                      {c.purpose === 'referral'
                        ? `Orientation vers ${c.partnerName ?? 'un partenaire'}`
                        : c.purpose === 'sms_contact'
                          ? 'Contact par SMS'
                          : 'Contact par courriel'}{' '}
                      · {METHOD_LABELS[c.method]} · le {formatDate(c.givenAt)}
                      {/* It ends at the minute typed, not at the end of that day. */}
                      {c.expiresAt ? ` · jusqu’au ${formatDateTime(c.expiresAt)}` : ''}
                      {c.revokedAt ? ` · retiré le ${formatDate(c.revokedAt)}` : ''}
                      {!c.valid && !c.revokedAt ? ' · expiré' : ''}
                    </p>
                    {c.sharedFields.length ? (
                      <p class="fr-text--sm fr-mb-1v">
                        Coordonnées partagées :{' '}
                        {c.sharedFields.map((f) => FIELD_LABELS[f]).join(', ')}
                      </p>
                    ) : null}
                    {c.revokedAt ? null : (
                      // A page of its own asks to confirm: the withdrawal cancels referrals.
                      <a
                        class="fr-btn fr-btn--sm fr-btn--tertiary"
                        href={`/consentements/${c.id}/retrait`}
                      >
                        Retirer ce consentement…
                      </a>
                    )}
                  </li>
                ))}
              </ul>
            )}
            <h3 class="fr-h6">Enregistrer l’accord de la personne pour une orientation</h3>
            <ErrorSummary form={consentForm} labels={CONSENT_LABELS} idPrefix="consent-" />
            <form method="post" action={`/personnes/${personId}/consentements`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <OnceKey />
              <SelectField
                form={consentForm}
                idPrefix="consent-"
                name="partnerId"
                label="Partenaire"
                required
                placeholder="— Choisir —"
                options={Object.fromEntries(partners.map((p) => [p.id, p.name]))}
              />
              <SelectField
                form={consentForm}
                idPrefix="consent-"
                name="method"
                label="Recueilli"
                required
                options={Object.fromEntries(CONSENT_METHODS.map((m) => [m, METHOD_LABELS[m]]))}
              />
              <TextField
                form={consentForm}
                idPrefix="consent-"
                name="givenAt"
                label="Le"
                type="datetime-local"
                required
              />
              <TextField
                form={consentForm}
                idPrefix="consent-"
                name="expiresAt"
                label="Valable jusqu’au"
                type="datetime-local"
                hint="Facultatif. Après cette date, on ne peut plus orienter la personne vers ce partenaire et il ne la voit plus, jusqu’à un nouvel accord."
              />
              <CheckboxGroup
                form={consentForm}
                idPrefix="consent-"
                name="sharedFields"
                label="Coordonnées que la personne accepte de partager"
                options={Object.fromEntries(SHAREABLE_FIELDS.map((f) => [f, FIELD_LABELS[f]]))}
              />
              <button class="fr-btn fr-btn--sm" type="submit">
                Enregistrer le consentement
              </button>
            </form>
          </Section>
        </div>
        <div class="fr-col-12 fr-col-lg-6">
          <Section title="Orienter vers un partenaire" id="orienter">
            {consented.size === 0 ? (
              <p class="fr-text--sm">
                Enregistrez d’abord l’accord de la personne pour le partenaire choisi.
              </p>
            ) : null}
            <p class="fr-text--sm">
              Le partenaire reçoit le motif de l’orientation et les éléments à partager, en plus du
              nom et des coordonnées que la personne accepte de partager ; rien d’autre de la fiche.
            </p>
            <ErrorSummary form={referralForm} labels={REFERRAL_LABELS} idPrefix="referral-" />
            <form method="post" action={`/personnes/${personId}/orientations`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <OnceKey />
              <SelectField
                form={referralForm}
                idPrefix="referral-"
                name="partnerId"
                label="Partenaire"
                required
                placeholder="— Choisir —"
                options={Object.fromEntries(
                  partners.map((p) => [
                    p.id,
                    `${p.name}${consented.has(p.id) ? '' : ' (sans consentement)'}`,
                  ]),
                )}
              />
              <SelectField
                form={referralForm}
                idPrefix="referral-"
                name="serviceId"
                label="Service"
                placeholder="— Aucun en particulier —"
                options={Object.fromEntries(
                  partners.flatMap((p) => p.services.map((s) => [s.id, `${p.name} — ${s.name}`])),
                )}
              />
              <SelectField
                form={referralForm}
                idPrefix="referral-"
                name="rightCode"
                label="Droit visé"
                hint="Facultatif : le partenaire voit ce droit, et lui seul, avec la demande."
                placeholder="— Aucun en particulier —"
                options={Object.fromEntries(rights.map((rt) => [rt.code, rt.label]))}
              />
              <TextArea
                form={referralForm}
                idPrefix="referral-"
                name="reason"
                label="Motif de l’orientation"
                hint="Le partenaire verra aussi ce motif : écrivez-le pour lui, sans détail inutile."
                required
              />
              <TextArea
                form={referralForm}
                idPrefix="referral-"
                name="sharedSummary"
                label="Éléments à partager avec le partenaire"
                hint="Le partenaire verra ce texte : rien de plus que nécessaire."
              />
              <button class="fr-btn fr-btn--sm" type="submit">
                Envoyer la demande
              </button>
            </form>
          </Section>
          <Section title="Orientations" id="orientations">
            {referrals.length === 0 ? (
              <p>Aucune orientation.</p>
            ) : (
              <ul class="av-list">
                {referrals.map((r) => (
                  <li class="av-item av-item--stack">
                    <p class="fr-mb-1v">
                      <a href={`/orientations/${r.id}`}>{r.partner.name}</a>{' '}
                      <ReferralBadge status={r.status} />
                      {r.right ? <span class="fr-text--sm"> · {r.right.label}</span> : null}
                    </p>
                    {isStaffView(r) ? <UpdateRightLink r={r} forms={rightForms} /> : null}
                    <History r={r} />
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </div>
      </div>
    </Layout>
  );
}

/** A referral in the person's timeline. */
export function ReferralTimelineEntry({
  item,
  rightForms,
}: {
  item: TimelineItem;
  /** Where the file updates each right it may set (rightUpdateForms). */
  rightForms: ReadonlyMap<string, RightUpdateForm>;
}) {
  const r = item.data as Referral;
  return (
    <li class="av-item av-item--stack">
      <p class="fr-text--bold fr-mb-1v">
        Orientation · <a href={`/orientations/${r.id}`}>{r.partner.name}</a> ·{' '}
        {STATUS_LABELS[r.status]}
        {r.right ? ` · ${r.right.label}` : ''}
      </p>
      <p class="fr-text--sm fr-mb-0">
        Demandée le {formatDateTime(r.createdAt)}
        {r.requester ? ` · par ${r.requester.name}` : ''}
      </p>
      <UpdateRightLink r={r} forms={rightForms} />
    </li>
  );
}

/** Asks to confirm a consent's withdrawal, saying what it will do; works without JavaScript. */
export function ConsentRevokePage({
  ctx,
  consent: c,
  personName,
  openReferrals,
}: {
  ctx: PageContext;
  consent: Consent;
  personName: string;
  /** The person's open referrals to that partner, which the withdrawal cancels. */
  openReferrals: number;
}) {
  const back = `/personnes/${c.personId}/orientations`;
  const partner = c.partnerName ?? 'ce partenaire';
  return (
    <Layout title={`Retirer un consentement — ${personName}`} ctx={ctx} nav="persons">
      <h1>Retirer le consentement de {personName} ?</h1>
      <p>
        {c.purpose === 'referral'
          ? `Orientation vers ${partner}`
          : c.purpose === 'sms_contact'
            ? 'Contact par SMS'
            : 'Contact par courriel'}{' '}
        · {METHOD_LABELS[c.method]} · donné le {formatDate(c.givenAt)}
      </p>
      {c.purpose === 'referral' ? (
        <div class="fr-alert fr-alert--warning fr-mb-3w">
          <p class="fr-alert__title">Ce retrait est immédiat</p>
          <ul>
            <li>
              {openReferrals === 0
                ? `Aucune orientation en cours vers ${partner} : aucune ne sera annulée.`
                : openReferrals === 1
                  ? `L’orientation en cours vers ${partner} sera annulée.`
                  : `Les ${openReferrals} orientations en cours vers ${partner} seront annulées.`}
            </li>
            <li>{partner} ne verra plus la personne.</li>
            <li>Pour orienter à nouveau, il faudra recueillir un nouvel accord.</li>
          </ul>
        </div>
      ) : null}
      <form method="post" action={`/consentements/${c.id}/retrait`}>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="confirmation" value="oui" />
        <ul class="fr-btns-group fr-btns-group--inline-sm">
          <li>
            <button type="submit" class="fr-btn">
              Oui, retirer le consentement
            </button>
          </li>
          <li>
            <a class="fr-btn fr-btn--secondary" href={back}>
              Non, revenir aux orientations
            </a>
          </li>
        </ul>
      </form>
    </Layout>
  );
}
