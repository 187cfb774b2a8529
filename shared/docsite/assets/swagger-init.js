// Starts Swagger UI on the page's #swagger-ui element (an external script, since
// the portal's Content-Security-Policy allows no inline script). "Try it out" calls
// this gateway: the document's server is relative ("/").
(() => {
  const root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    layout: 'BaseLayout',
    persistAuthorization: false,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
    validatorUrl: null,
  });
})();
