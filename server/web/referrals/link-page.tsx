import type { LinkPurpose } from '../../features/referrals/referral-link-tokens';
import {
  LINK_ACTIONS,
  type LinkState,
  type GoneReason,
} from '../../features/referrals/referral-link-service';
import type { PartnerReferral } from '../../features/referrals/referral-repository';
import { REJECTION_REASON_LABELS, STATUS_LABELS } from '../../features/referrals/referral-state';
import { formatDate, formatDateTime } from '../format';
import {
  emptyForm,
  ErrorSummary,
  SelectField,
  TextArea,
  TextField,
  type FormState,
} from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { SharedPersonDetails } from './referral-views';

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
    "Ce lien a expiré : un lien est valable 8 jours, et ne fonctionne plus dès que l'adresse électronique du partenaire a changé. Demandez à la structure qui vous a adressé la demande de vous renvoyer le lien : elle peut le faire depuis la demande, et un nouveau lien vous parviendra par courriel.",
  used: 'Ce lien a déjà servi : votre réponse a été enregistrée. Il ne peut pas être réutilisé.',
  closed:
    "Cette demande n'attend plus de réponse par ce lien (elle a déjà reçu une réponse ou a été close).",
  not_found: "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.",
  rate_limited: 'Trop de tentatives depuis votre connexion. Réessayez dans quelques minutes.',
};

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

/**
 * The answer recorded. An acceptance shows the person's shared details once more: a partner
 * without an account has no other way to read them, the link being spent.
 */
export function LinkDonePage({
  status,
  referral,
}: {
  status: keyof typeof STATUS_LABELS;
  referral: PartnerReferral | null;
}) {
  return (
    <Layout title="Réponse enregistrée" ctx={anonymousContext}>
      <h1>Merci, votre réponse est enregistrée</h1>
      <div class="fr-alert fr-alert--success fr-mb-4w" role="status">
        <p>
          La demande est maintenant : <strong>{STATUS_LABELS[status]}</strong>. La personne qui vous
          l'a adressée en est informée.
        </p>
      </div>
      {status === 'accepted' && referral ? (
        <>
          <p>
            <strong>Notez ces coordonnées : ce lien ne servira plus.</strong>
          </p>
          <PersonCard r={referral} />
        </>
      ) : null}
    </Layout>
  );
}

/**
 * What the person agreed to share with the partner, the right the referral serves if it names
 * one, and why they were referred.
 */
function PersonCard({ r }: { r: PartnerReferral }) {
  return (
    <div class="fr-card fr-mb-4w">
      <div class="fr-card__body">
        <div class="fr-card__content">
          <h2 class="fr-card__title">Personne orientée</h2>
          {/* In a DSFR card the title comes second (order 2): the details go in its desc. */}
          <div class="fr-card__desc">
            <dl>
              <SharedPersonDetails person={r.person} nameLabel="Nom" />
              {r.right ? (
                <>
                  <dt>Droit visé</dt>
                  <dd>{r.right.label}</dd>
                </>
              ) : null}
              <dt>Motif de l'orientation</dt>
              <dd>{r.reason}</dd>
              {r.sharedSummary ? (
                <>
                  <dt>Éléments partagés avec l’accord de la personne</dt>
                  <dd>{r.sharedSummary}</dd>
                </>
              ) : null}
            </dl>
          </div>
        </div>
      </div>
    </div>
  );
}

type LinkAction = {
  [P in LinkPurpose]: keyof (typeof LINK_ACTIONS)[P]['actions'];
}[LinkPurpose];

/** How each answer of a link shows: its box's legend and its button. */
const ANSWER_WORDS: Record<LinkAction, { legend: string; button: string; negative?: boolean }> = {
  accept: { legend: 'Accepter la demande', button: 'Accepter la demande' },
  reject: { legend: 'Refuser la demande', button: 'Refuser la demande', negative: true },
  complete: { legend: "Oui : l'aide a été apportée", button: "Oui, l'aide a été apportée" },
  fail: {
    legend: "Non : l'aide n'a pas pu être apportée",
    button: "Non, elle n'a pas pu l'être",
    negative: true,
  },
};

/** The answers a link of this purpose offers, in the service's order. */
const answersOf = (purpose: LinkPurpose) =>
  Object.keys(LINK_ACTIONS[purpose].actions) as LinkAction[];

/** The fields of each answer's box, as labelled there and in the error summary. */
const ANSWER_LABELS: Record<LinkAction, Record<string, string>> = {
  accept: {},
  reject: { reason: 'Motif du refus' },
  complete: { outcome: 'Résultat' },
  fail: { reason: "Raison de l'échec", outcome: 'Résultat' },
};

const isAnswer = (a: string): a is LinkAction => Object.hasOwn(ANSWER_WORDS, a);

const OUTCOME_HINT = 'Facultatif, sans détail personnel inutile';

/**
 * One box per answer, as the staff move forms: a field belongs to one answer, so Enter in it
 * sends that answer (a failure's reason can no longer go out under the completion's button), and
 * the answer is a hidden field, not the button pressed.
 */
function AnswerForm({
  action,
  answer,
  form,
}: {
  action: string;
  answer: LinkAction;
  form: FormState;
}) {
  const idPrefix = `${answer}-`;
  const words = ANSWER_WORDS[answer];
  return (
    <form method="post" action={action} class="av-move" novalidate>
      <input type="hidden" name="action" value={answer} />
      <fieldset class="fr-fieldset fr-mb-0">
        <legend class="fr-fieldset__legend">{words.legend}</legend>
        {answer === 'reject' ? (
          <div class="fr-fieldset__element">
            <SelectField
              form={form}
              idPrefix={idPrefix}
              name="reason"
              label={ANSWER_LABELS.reject.reason}
              required
              placeholder="— Choisir un motif —"
              options={REJECTION_REASON_LABELS}
            />
          </div>
        ) : null}
        {answer === 'fail' ? (
          <div class="fr-fieldset__element">
            <TextField
              form={form}
              idPrefix={idPrefix}
              name="reason"
              label={ANSWER_LABELS.fail.reason}
              required
              maxLength={500}
            />
          </div>
        ) : null}
        {answer === 'complete' || answer === 'fail' ? (
          <div class="fr-fieldset__element">
            <TextArea
              form={form}
              idPrefix={idPrefix}
              name="outcome"
              label={ANSWER_LABELS[answer].outcome}
              hint={OUTCOME_HINT}
            />
          </div>
        ) : null}
        <div class="fr-fieldset__element fr-mb-0">
          <button class={`fr-btn${words.negative ? ' fr-btn--secondary' : ''}`} type="submit">
            {words.button}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

/** The minimum a partner needs to answer, and the forms for this link's single purpose. */
export function LinkAnswerPage({
  state,
  action,
  attempt,
}: {
  state: Extract<LinkState, { kind: 'open' }>;
  action: string;
  /** A refused answer, shown back in its box with what was typed and why. */
  attempt?: { answer: string; form: FormState };
}) {
  const r = state.referral;
  const hasErrors = Object.keys(attempt?.form.errors ?? {}).length > 0;
  // The summary links only to fields the refused answer's box has (a reason sent with an
  // acceptance, or an answer no box offers, is said without a link).
  const tried = attempt && isAnswer(attempt.answer) ? attempt.answer : null;
  return (
    <Layout title="Demande d'orientation" hasErrors={hasErrors} ctx={anonymousContext}>
      <h1>Demande d'orientation</h1>
      <p>
        Adressée par <strong>{r.structure.name}</strong>
        {r.requester ? ` (${r.requester.name})` : ''} à <strong>{r.partner.name}</strong>
        {r.service ? `, service « ${r.service.name} »` : ''}, le {formatDate(r.createdAt)}. Statut :{' '}
        {STATUS_LABELS[r.status]}.
      </p>
      {attempt ? (
        <ErrorSummary
          form={attempt.form}
          labels={tried ? ANSWER_LABELS[tried] : {}}
          idPrefix={tried ? `${tried}-` : ''}
        />
      ) : null}
      <PersonCard r={r} />
      <h2>
        {state.purpose === 'respond' ? 'Votre réponse' : "L'aide a-t-elle pu être apportée ?"}
      </h2>
      {answersOf(state.purpose).map((answer) => (
        <AnswerForm
          action={action}
          answer={answer}
          form={answer === tried && attempt ? attempt.form : emptyForm()}
        />
      ))}
      <p class="fr-text--sm">
        {/* It expires at a minute, not at the end of a day. */}
        Ce lien personnel est valable jusqu'au {formatDateTime(state.expiresAt)} et ne sert qu'une
        fois. Ne le transférez pas.
      </p>
    </Layout>
  );
}
