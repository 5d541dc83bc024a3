import type { EmailChangeProblem } from '../../features/partners/partner-email-changes';
import { Csrf } from '../views/components';
import { Layout, type PageContext } from '../views/layout';

const PROBLEMS: Record<EmailChangeProblem, string> = {
  link_invalid:
    'Ce lien ne fonctionne pas : il est incomplet, ou une adresse plus récente a été demandée depuis.',
  link_expired:
    'Ce lien a expiré : il n’est valable que 48 heures. Demandez à la structure qui gère ce partenaire d’enregistrer à nouveau l’adresse.',
  link_used: 'Ce lien a déjà servi : l’adresse est confirmée.',
};

const TITLE = 'Confirmer l’adresse d’un partenaire';

/** The confirmation of a partner's new address: the question, the result, or the link's problem. */
export function PartnerEmailPage({
  ctx,
  action,
  partnerName,
  newEmail,
  confirmed,
  problem,
}: {
  ctx: PageContext;
  action: string;
  partnerName?: string;
  newEmail?: string;
  confirmed?: { partnerName: string; newEmail: string };
  problem?: EmailChangeProblem;
}) {
  return (
    <Layout title={TITLE} hasErrors={Boolean(problem)} ctx={ctx}>
      <div class="fr-grid-row fr-grid-row--center">
        <div class="fr-col-12 fr-col-md-8 fr-col-lg-6">
          <h1>{TITLE}</h1>
          {problem ? (
            <div class="fr-alert fr-alert--error fr-mb-3w" role="alert">
              <p>{PROBLEMS[problem]}</p>
            </div>
          ) : confirmed ? (
            <div class="fr-alert fr-alert--success fr-mb-3w" role="status">
              <p>
                Adresse confirmée : les demandes d’orientation adressées à {confirmed.partnerName}{' '}
                seront désormais envoyées à {confirmed.newEmail}.
              </p>
            </div>
          ) : (
            <>
              <p>
                L’adresse {newEmail} doit recevoir les demandes d’orientation adressées à{' '}
                {partnerName}. Confirmez-le si c’est bien la vôtre ; sinon, fermez cette page et
                rien ne changera.
              </p>
              <form method="post" action={action}>
                <Csrf token={ctx.csrfToken} />
                <button type="submit" class="fr-btn">
                  Confirmer cette adresse
                </button>
              </form>
            </>
          )}
        </div>
      </div>
    </Layout>
  );
}
