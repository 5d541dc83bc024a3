/*
 * Starts Swagger UI (swagger-ui-dist, served by the app) on the OpenAPI document named by the
 * element's data-url. A file, not an inline script: the Content-Security-Policy allows none.
 * "Try it out" is off: the page is a reference to read; calls are made with the client's own code.
 */
(function () {
  var root = document.getElementById('api-reference');
  if (!root || typeof window.SwaggerUIBundle !== 'function') return;
  window.SwaggerUIBundle({
    url: root.getAttribute('data-url'),
    domNode: root,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    supportedSubmitMethods: [],
    // No call to the public validator: nothing leaves for another site.
    validatorUrl: null,
  });
})();
