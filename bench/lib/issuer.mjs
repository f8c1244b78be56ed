// A local OIDC issuer for the benchmark (plain-JS sibling of test/support/test-issuer.ts): discovery and JWKS on
// 127.0.0.1, with request counters. It only serves documents; tokens are minted by fixtures.mjs.
import http from 'node:http';

export async function startIssuer({ port = 0, jwks }) {
  const counts = {};
  let body = JSON.stringify(jwks);
  let origin = '';
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    counts[path] = (counts[path] ?? 0) + 1;
    if (path === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `${origin}/`, jwks_uri: `${origin}/.well-known/jwks.json`, token_endpoint: `${origin}/oauth/token` }));
    } else if (path === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    issuer: `${origin}/`,
    jwksUri: `${origin}/.well-known/jwks.json`,
    counts,
    setJwks(next) {
      body = JSON.stringify(next);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
