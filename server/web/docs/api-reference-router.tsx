import { Router } from 'express';
import { isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { pageContext } from '../page-context';
import { sendPage } from '../render';
import { Layout, type PageContext } from '../views/layout';

type Services = Deps['services'];

/** Where webStatic serves the viewer's two files from swagger-ui-dist. */
export const SWAGGER_UI_PATH = '/static/swagger-ui';

function ApiReferencePage({ ctx }: { ctx: PageContext }) {
  return (
    <Layout
      title="Référence de l'API"
      ctx={ctx}
      styles={[`${SWAGGER_UI_PATH}/swagger-ui.css`]}
      scripts={[`${SWAGGER_UI_PATH}/swagger-ui-bundle.js`, '/static/api-reference.js']}
    >
      <h1>Référence de l'API</h1>
      <p>
        L'API JSON d'aller-vers, pour les systèmes des partenaires : chaque point d'accès, ce qu'il
        attend et ce qu'il répond, erreurs comprises. Le document OpenAPI brut est à{' '}
        <a href="/api/docs">/api/docs</a>.
      </p>
      <noscript>
        <p>Cette page a besoin de JavaScript ; le document OpenAPI reste lisible à /api/docs.</p>
      </noscript>
      <div id="api-reference" class="av-api-reference" data-url="/api/docs" lang="en"></div>
    </Layout>
  );
}

/** The API reference: a kept OpenAPI viewer (Swagger UI) bundled from npm and served here. */
export function apiReferenceWebRouter(services: Services): Router {
  const r = Router();
  r.get('/docs/api', isPublic(), async (req, res) => {
    sendPage(res, <ApiReferencePage ctx={await pageContext(req, services.notifications)} />);
  });
  return r;
}
