// Renders the podkeys OpenAPI document with the vendored Swagger UI. No inline script (CSP),
// no validator or other third-party calls, and an API key typed into "Authorize" is kept in
// memory only (persistAuthorization: false).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: false,
    persistAuthorization: false,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
  });
});
