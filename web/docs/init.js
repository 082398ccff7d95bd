// platctl serve's /docs: Swagger UI over this server's own /openapi.json. A separate file,
// not an inline script, so that the page's Content-Security-Policy allows scripts from
// this origin only. "Authorize" takes a bearer token (platctl token create, or an access
// token from POST /v1/auth/token).
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
  });
};
