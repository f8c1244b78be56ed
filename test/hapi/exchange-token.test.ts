/**
 * `auth0.exchangeToken(request, { audience, scope })` on hapi (docs/decisions.md D24): the rules every adapter keeps
 * (test/support/exchange-suite.ts), on a route of the plugin's `auth0` strategy and on a route without authentication.
 */
import Hapi, { type Request, type ResponseToolkit } from '@hapi/hapi';
import { createAuth0Api, PLUGIN_NAME } from '../../src/hapi/index.js';
import { TokenExchangeError } from '../../src/core/index.js';
import { DOWNSTREAM, describeTokenExchange } from '../support/exchange-suite.js';

describeTokenExchange('hapi', async (options) => {
  const auth0 = createAuth0Api({ ...options, onError: () => {} });
  const server = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
  await server.register(auth0.plugin);
  const relay = async (request: Request, h: ResponseToolkit) => {
    try {
      return { token: await auth0.exchangeToken(request, { audience: DOWNSTREAM, scope: 'read:items' }) };
    } catch (error) {
      if (error instanceof TokenExchangeError) return h.response({ error: error.code }).code(502);
      throw error;
    }
  };
  server.route({ method: 'GET', path: '/protected', options: { auth: 'auth0', plugins: { [PLUGIN_NAME]: { scopes: 'read:messages' } } }, handler: relay });
  server.route({ method: 'GET', path: '/unprotected', options: { auth: false }, handler: relay });
  await server.start();
  return { base: server.info.uri, close: () => server.stop() };
});
