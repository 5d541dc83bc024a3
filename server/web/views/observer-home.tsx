import { Layout, type PageContext } from './layout';

/**
 * The observer's home at `/`: observers see aggregated, small-count-suppressed statistics only
 * (spec §1 and §4), never a person. The observation dashboard takes this place.
 */
export function ObserverHomePage({ ctx }: { ctx: PageContext }) {
  return (
    <Layout title="Observation sociale" ctx={ctx} nav="home">
      <h1>Observation sociale</h1>
      <p class="fr-text--lead">
        Bonjour {ctx.actor?.name}. Votre compte d’observation donne accès aux statistiques agrégées
        de la structure : personnes repérées et rencontrées, droits ouverts, motifs de non-recours,
        orientations vers les partenaires.
      </p>
      <p>
        Les petits effectifs sont masqués (« &lt; 5 ») pour qu’aucune personne ne puisse être
        reconnue ; aucun dossier individuel n’est visible depuis ce compte.
      </p>
      <div class="fr-callout">
        <p class="fr-callout__text">
          Le tableau d’observation sera affiché sur cette page. En attendant, les messages qui vous
          sont adressés sont dans vos <a href="/notifications">notifications</a>.
        </p>
      </div>
    </Layout>
  );
}
