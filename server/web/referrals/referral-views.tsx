import type { TimelineItem } from '../../features/persons/timeline-service';
import type { Consent } from '../../features/consents/consent-repository';
import { CONSENT_METHODS, SHAREABLE_FIELDS } from '../../features/consents/consent-schemas';
import type { Partner } from '../../features/partners/partner-repository';
import type { PartnerReferral, Referral } from '../../features/referrals/referral-repository';
import {
  ACTOR_FOR,
  REASON_REQUIRED,
  REJECTION_REASONS,
  REJECTION_REASON_LABELS,
  STATUS_LABELS,
  TRANSITIONS,
  type ReferralStatus,
} from '../../features/referrals/referral-state';
import { formatDate, formatDateTime } from '../format';
import { Csrf, Section } from '../views/components';
import { Layout, type PageContext } from '../views/layout';

export const TRANSITION_LABELS: Record<Exclude<ReferralStatus, 'requested'>, string> = {
  accepted: 'Accepter',
  rejected: 'Refuser',
  in_progress: 'Démarrer l’accompagnement',
  on_hold: 'Mettre en pause',
  completed: 'Aide apportée',
  failed: 'Aide impossible',
  cancelled: 'Annuler la demande',
  expired: 'Expirer',
};

const REASON_CODE_LABELS: Record<string, string> = {
  ...REJECTION_REASON_LABELS,
  consent_revoked: 'Consentement retiré',
  sla_passed: 'Délai de réponse dépassé',
};

const METHOD_LABELS: Record<string, string> = { oral: 'Oral', written: 'Écrit' };
const FIELD_LABELS: Record<string, string> = {
  phone: 'Téléphone',
  email: 'Courriel',
  address: 'Adresse',
};

export function ReferralBadge({ status }: { status: ReferralStatus }) {
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

/** The moves this actor may make from the current status. */
export function movesFor(role: string, r: AnyReferral, actorId: string): ReferralStatus[] {
  return TRANSITIONS[r.status].filter((to) => {
    const who = ACTOR_FOR[to as Exclude<ReferralStatus, 'requested'>];
    if (who === 'partner') return role === 'partner';
    if (who === 'requester_or_manager')
      return role === 'manager' || (isStaffView(r) && r.requester?.id === actorId);
    return false;
  });
}

function MoveForm({ ctx, r, to }: { ctx: PageContext; r: AnyReferral; to: ReferralStatus }) {
  const id = `move-${to}`;
  const needsReason = REASON_REQUIRED.includes(to);
  return (
    <form method="post" action={`/orientations/${r.id}/transition`} class="fr-mb-3w">
      <Csrf token={ctx.csrfToken} />
      <input type="hidden" name="to" value={to} />
      {to === 'rejected' ? (
        <div class="fr-select-group">
          <label class="fr-label" for={`${id}-reason`}>
            Motif du refus *
          </label>
          <select class="fr-select" id={`${id}-reason`} name="reason" required>
            <option value="">— Choisir un motif —</option>
            {REJECTION_REASONS.map((c) => (
              <option value={c}>{REJECTION_REASON_LABELS[c]}</option>
            ))}
          </select>
        </div>
      ) : needsReason ? (
        <div class="fr-input-group">
          <label class="fr-label" for={`${id}-reason`}>
            Raison ({TRANSITION_LABELS[to as Exclude<ReferralStatus, 'requested'>].toLowerCase()}) *
          </label>
          <input class="fr-input" id={`${id}-reason`} name="reason" required maxLength={500} />
        </div>
      ) : null}
      {to === 'completed' || to === 'failed' ? (
        <div class="fr-input-group">
          <label class="fr-label" for={`${id}-outcome`}>
            Résultat (facultatif)
          </label>
          <input class="fr-input" id={`${id}-outcome`} name="outcome" maxLength={2000} />
        </div>
      ) : null}
      <button
        class={`fr-btn fr-btn--sm${to === 'rejected' || to === 'cancelled' || to === 'failed' ? ' fr-btn--secondary' : ''}`}
        type="submit"
      >
        {TRANSITION_LABELS[to as Exclude<ReferralStatus, 'requested'>]}
      </button>
    </form>
  );
}

function personName(r: AnyReferral) {
  return r.person.displayName;
}

export function ReferralListPage({
  ctx,
  items,
  total,
  mine,
  status,
}: {
  ctx: PageContext;
  items: AnyReferral[];
  total: number;
  mine: boolean;
  status: string;
}) {
  const partner = ctx.actor?.role === 'partner';
  const title = partner ? 'Demandes reçues' : 'Orientations';
  return (
    <Layout title={title} ctx={ctx} nav="referrals">
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
      {items.length === 0 ? (
        <p>Aucune demande.</p>
      ) : (
        <ul class="av-list">
          {items.map((r) => (
            <li class="av-item av-item--stack">
              <p class="fr-mb-1v">
                <a href={`/orientations/${r.id}`}>
                  {personName(r)} → {r.partner.name}
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
    </Layout>
  );
}

export function ReferralDetailPage({ ctx, r }: { ctx: PageContext; r: AnyReferral }) {
  const moves = ctx.actor ? movesFor(ctx.actor.role, r, ctx.actor.id) : [];
  return (
    <Layout title={`Orientation — ${personName(r)}`} ctx={ctx} nav="referrals">
      <p class="fr-mb-2w">
        <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/orientations">
          Toutes les demandes
        </a>
      </p>
      <h1>
        Orientation de {personName(r)} vers {r.partner.name}
      </h1>
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
          </Section>
          {moves.length ? (
            <Section title="Répondre ou faire avancer" id="actions">
              {moves.map((to) => (
                <MoveForm ctx={ctx} r={r} to={to} />
              ))}
            </Section>
          ) : null}
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

/** The person file's referral and consent page. */
export function PersonReferralsPage({
  ctx,
  personId,
  personName: name,
  consents,
  referrals,
  partners,
  nowLocal,
}: {
  ctx: PageContext;
  personId: string;
  personName: string;
  consents: Consent[];
  referrals: Referral[];
  partners: Partner[];
  nowLocal: string;
}) {
  const consented = new Set(
    consents.filter((c) => c.valid && c.partnerId).map((c) => c.partnerId as string),
  );
  return (
    <Layout title={`Orientations — ${name}`} ctx={ctx} nav="persons">
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
                      {c.expiresAt ? ` · jusqu’au ${formatDate(c.expiresAt)}` : ''}
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
                      <form method="post" action={`/consentements/${c.id}/retrait`}>
                        <Csrf token={ctx.csrfToken} />
                        <input type="hidden" name="personId" value={personId} />
                        <button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit">
                          Retirer ce consentement
                        </button>
                      </form>
                    )}
                  </li>
                ))}
              </ul>
            )}
            <h3 class="fr-h6">Enregistrer l’accord de la personne pour une orientation</h3>
            <form method="post" action={`/personnes/${personId}/consentements`}>
              <Csrf token={ctx.csrfToken} />
              <div class="fr-select-group">
                <label class="fr-label" for="consent-partner">
                  Partenaire *
                </label>
                <select class="fr-select" id="consent-partner" name="partnerId" required>
                  <option value="">— Choisir —</option>
                  {partners.map((p) => (
                    <option value={p.id}>{p.name}</option>
                  ))}
                </select>
              </div>
              <div class="fr-select-group">
                <label class="fr-label" for="consent-method">
                  Recueilli *
                </label>
                <select class="fr-select" id="consent-method" name="method" required>
                  {CONSENT_METHODS.map((m) => (
                    <option value={m}>{METHOD_LABELS[m]}</option>
                  ))}
                </select>
              </div>
              <div class="fr-input-group">
                <label class="fr-label" for="consent-given">
                  Le *
                </label>
                <input
                  class="fr-input"
                  type="datetime-local"
                  id="consent-given"
                  name="givenAt"
                  value={nowLocal}
                  required
                />
              </div>
              <fieldset class="fr-fieldset">
                <legend class="fr-fieldset__legend fr-text--regular">
                  Coordonnées que la personne accepte de partager
                </legend>
                {SHAREABLE_FIELDS.map((f) => (
                  <div class="fr-fieldset__element">
                    <div class="fr-checkbox-group">
                      <input type="checkbox" id={`share-${f}`} name="sharedFields" value={f} />
                      <label class="fr-label" for={`share-${f}`}>
                        {FIELD_LABELS[f]}
                      </label>
                    </div>
                  </div>
                ))}
              </fieldset>
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
            <form method="post" action={`/personnes/${personId}/orientations`}>
              <Csrf token={ctx.csrfToken} />
              <div class="fr-select-group">
                <label class="fr-label" for="referral-partner">
                  Partenaire *
                </label>
                <select class="fr-select" id="referral-partner" name="partnerId" required>
                  <option value="">— Choisir —</option>
                  {partners.map((p) => (
                    <option value={p.id}>
                      {p.name}
                      {consented.has(p.id) ? '' : ' (sans consentement)'}
                    </option>
                  ))}
                </select>
              </div>
              <div class="fr-select-group">
                <label class="fr-label" for="referral-service">
                  Service
                </label>
                <select class="fr-select" id="referral-service" name="serviceId">
                  <option value="">— Aucun en particulier —</option>
                  {partners.flatMap((p) =>
                    p.services.map((s) => (
                      <option value={s.id}>
                        {p.name} — {s.name}
                      </option>
                    )),
                  )}
                </select>
              </div>
              <div class="fr-input-group">
                <label class="fr-label" for="referral-reason">
                  Motif de l’orientation *
                </label>
                <textarea
                  class="fr-input"
                  id="referral-reason"
                  name="reason"
                  required
                  maxLength={2000}
                ></textarea>
              </div>
              <div class="fr-input-group">
                <label class="fr-label" for="referral-summary">
                  Éléments à partager avec le partenaire
                  <span class="fr-hint-text">
                    Le partenaire verra ce texte : rien de plus que nécessaire.
                  </span>
                </label>
                <textarea
                  class="fr-input"
                  id="referral-summary"
                  name="sharedSummary"
                  maxLength={4000}
                ></textarea>
              </div>
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
                    </p>
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
export function ReferralTimelineEntry({ item }: { item: TimelineItem }) {
  const r = item.data as Referral;
  return (
    <li class="av-item av-item--stack">
      <p class="fr-text--bold fr-mb-1v">
        Orientation · <a href={`/orientations/${r.id}`}>{r.partner.name}</a> ·{' '}
        {STATUS_LABELS[r.status]}
      </p>
      <p class="fr-text--sm fr-mb-0">
        Demandée le {formatDateTime(r.createdAt)}
        {r.requester ? ` · par ${r.requester.name}` : ''}
      </p>
    </li>
  );
}

export function AdminPartnersPage({ ctx, partners }: { ctx: PageContext; partners: Partner[] }) {
  return (
    <Layout title="Partenaires" ctx={ctx} nav="partners">
      <h1>Annuaire des partenaires</h1>
      <ul class="av-list fr-mb-4w">
        {partners.map((p) => (
          <li class="av-item av-item--stack">
            <p class="fr-mb-1v">
              <strong>{p.name}</strong> · {p.email}
              {p.stale ? (
                <span class="fr-badge fr-badge--sm fr-badge--warning fr-ml-1w">À revoir</span>
              ) : null}
            </p>
            <p class="fr-text--sm fr-mb-1v">
              Revu le {formatDate(p.lastReviewedAt)}
              {p.area ? ` · ${p.area}` : ''}
            </p>
            <ul>
              {p.services.map((s) => (
                <li class="fr-text--sm">
                  {s.name} — {s.themes.join(', ')} — réponse sous {s.responseDelayDays} j ouvrés
                </li>
              ))}
            </ul>
            <form method="post" action={`/admin/partenaires/${p.id}/revue`}>
              <Csrf token={ctx.csrfToken} />
              <button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit">
                Marquer comme revu aujourd’hui
              </button>
            </form>
          </li>
        ))}
      </ul>
      <Section title="Ajouter un partenaire" id="ajouter">
        <form method="post" action="/admin/partenaires">
          <Csrf token={ctx.csrfToken} />
          {(
            [
              ['name', 'Nom *', 'text'],
              ['email', 'Courriel *', 'email'],
              ['phone', 'Téléphone', 'tel'],
              ['area', 'Zone d’intervention', 'text'],
              ['howToReach', 'Comment le joindre', 'text'],
              ['serviceName', 'Service *', 'text'],
              ['themes', 'Thématiques data·inclusion * (séparées par des virgules)', 'text'],
              ['responseDelayDays', 'Délai de réponse (jours ouvrés)', 'number'],
            ] as const
          ).map(([name, label, type]) => (
            <div class="fr-input-group">
              <label class="fr-label" for={`partner-${name}`}>
                {label}
              </label>
              <input class="fr-input" id={`partner-${name}`} name={name} type={type as 'text'} />
            </div>
          ))}
          <button class="fr-btn" type="submit">
            Ajouter
          </button>
        </form>
      </Section>
    </Layout>
  );
}
