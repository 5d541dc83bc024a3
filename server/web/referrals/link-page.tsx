import { Layout, type PageContext } from '../views/layout';
import { SharedPersonDetails } from './referral-views';
import type { LinkState, GoneReason } from '../../features/referrals/referral-link-service';
import {
  REJECTION_REASONS,
  REJECTION_REASON_LABELS,
  STATUS_LABELS,
} from '../../features/referrals/referral-state';

/** The page has no signed-in user: the frame shows no menu and no account. */
const anonymousContext: PageContext = {
  actor: null,
  csrfToken: '',
  unread: 0,
  flash: null,
  staff: false,
};

const GONE_MESSAGES: Record<GoneReason | 'not_found' | 'rate_limited', string> = {
  expired:
    "Ce lien a expiré : un lien est valable 8 jours, et ne fonctionne plus dès que l'adresse électronique du partenaire a changé. Contactez la structure qui vous a adressé la demande pour qu'elle vous envoie un nouveau lien.",
  used: 'Ce lien a déjà servi : votre réponse a été enregistrée. Il ne peut pas être réutilisé.',
  closed:
    "Cette demande n'attend plus de réponse par ce lien (elle a déjà reçu une réponse ou a été close).",
  not_found: "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.",
  rate_limited: 'Trop de tentatives depuis votre connexion. Réessayez dans quelques minutes.',
};

function fmt(d: Date): string {
  return new Intl.DateTimeFormat('fr-FR', {
    dateStyle: 'long',
    timeZone: 'Europe/Paris',
  }).format(new Date(d));
}

export function LinkRefusedPage({ reason }: { reason: GoneReason | 'not_found' | 'rate_limited' }) {
  return (
    <Layout title="Lien indisponible" ctx={anonymousContext}>
      <h1>Lien indisponible</h1>
      <div class="fr-alert fr-alert--warning" role="alert">
        <p>{GONE_MESSAGES[reason]}</p>
      </div>
    </Layout>
  );
}

export function LinkDonePage({ status }: { status: keyof typeof STATUS_LABELS }) {
  return (
    <Layout title="Réponse enregistrée" ctx={anonymousContext}>
      <h1>Merci, votre réponse est enregistrée</h1>
      <div class="fr-alert fr-alert--success" role="status">
        <p>
          La demande est maintenant : <strong>{STATUS_LABELS[status]}</strong>. La personne qui vous
          l'a adressée en est informée.
        </p>
      </div>
    </Layout>
  );
}

/** The minimum a partner needs to answer, and the form for this link's single purpose. */
export function LinkAnswerPage({
  state,
  action,
  error,
}: {
  state: Extract<LinkState, { kind: 'open' }>;
  action: string;
  error?: string;
}) {
  const r = state.referral;
  return (
    <Layout title="Demande d'orientation" ctx={anonymousContext}>
      <h1>Demande d'orientation</h1>
      <p>
        Adressée par <strong>{r.structure.name}</strong>
        {r.requester ? ` (${r.requester.name})` : ''} à <strong>{r.partner.name}</strong>
        {r.service ? `, service « ${r.service.name} »` : ''}, le {fmt(r.createdAt)}. Statut :{' '}
        {STATUS_LABELS[r.status]}.
      </p>
      {error ? (
        <div class="fr-alert fr-alert--error fr-mb-3w" role="alert">
          <p>{error}</p>
        </div>
      ) : null}
      <div class="fr-card fr-mb-4w">
        <div class="fr-card__body">
          <div class="fr-card__content">
            <h2 class="fr-card__title">Personne orientée</h2>
            {/* In a DSFR card the title comes second (order 2): the details go in its desc. */}
            <div class="fr-card__desc">
              <dl>
                <SharedPersonDetails person={r.person} nameLabel="Nom" />
                <dt>Motif de l'orientation</dt>
                <dd>{r.reason}</dd>
                {r.sharedSummary ? (
                  <>
                    <dt>Éléments partagés avec votre accord</dt>
                    <dd>{r.sharedSummary}</dd>
                  </>
                ) : null}
              </dl>
            </div>
          </div>
        </div>
      </div>
      <form method="post" action={action}>
        {state.purpose === 'respond' ? (
          <fieldset class="fr-fieldset">
            <legend class="fr-fieldset__legend">Votre réponse</legend>
            <div class="fr-fieldset__element">
              <div class="fr-select-group">
                <label class="fr-label" for="reason">
                  Motif du refus (obligatoire pour refuser)
                </label>
                <select class="fr-select" id="reason" name="reason">
                  <option value="">— Choisir un motif —</option>
                  {REJECTION_REASONS.map((code) => (
                    <option value={code}>{REJECTION_REASON_LABELS[code]}</option>
                  ))}
                </select>
              </div>
            </div>
            <div class="fr-fieldset__element">
              <ul class="fr-btns-group fr-btns-group--inline-md">
                <li>
                  <button class="fr-btn" type="submit" name="action" value="accept">
                    Accepter la demande
                  </button>
                </li>
                <li>
                  <button
                    class="fr-btn fr-btn--secondary"
                    type="submit"
                    name="action"
                    value="reject"
                  >
                    Refuser la demande
                  </button>
                </li>
              </ul>
            </div>
          </fieldset>
        ) : (
          <fieldset class="fr-fieldset">
            <legend class="fr-fieldset__legend">L'aide a-t-elle pu être apportée ?</legend>
            <div class="fr-fieldset__element">
              <div class="fr-input-group">
                <label class="fr-label" for="outcome">
                  Résultat (facultatif, sans détail personnel inutile)
                </label>
                <textarea class="fr-input" id="outcome" name="outcome" maxLength={2000}></textarea>
              </div>
              <div class="fr-input-group">
                <label class="fr-label" for="reason">
                  Raison de l'échec (obligatoire si l'aide n'a pas pu être apportée)
                </label>
                <input class="fr-input" id="reason" name="reason" maxLength={500} />
              </div>
            </div>
            <div class="fr-fieldset__element">
              <ul class="fr-btns-group fr-btns-group--inline-md">
                <li>
                  <button class="fr-btn" type="submit" name="action" value="complete">
                    Oui, l'aide a été apportée
                  </button>
                </li>
                <li>
                  <button class="fr-btn fr-btn--secondary" type="submit" name="action" value="fail">
                    Non, elle n'a pas pu l'être
                  </button>
                </li>
              </ul>
            </div>
          </fieldset>
        )}
      </form>
      <p class="fr-text--sm">
        Ce lien personnel est valable jusqu'au {fmt(state.expiresAt)} et ne sert qu'une fois. Ne le
        transférez pas.
      </p>
    </Layout>
  );
}
