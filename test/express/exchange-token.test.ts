/**
 * `auth0.exchangeToken(req, { audience, scope })` on plain Express (docs/decisions.md D24): the rules every adapter
 * keeps (test/support/exchange-suite.ts), with `requireAuth` and errorHandler().
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAuth0Api, errorHandler } from '../../src/express/index.js';
import { TokenExchangeError } from '../../src/core/index.js';
import { DOWNSTREAM, describeTokenExchange } from '../support/exchange-suite.js';

describeTokenExchange('Express', async (options) => {
  const auth0 = createAuth0Api(options);
  const app = express();
  auth0.install(app);
  const relay: express.RequestHandler = async (req, res, next) => {
    try {
      res.json({ token: await auth0.exchangeToken(req, { audience: DOWNSTREAM, scope: 'read:items' }) });
    } catch (error) {
      if (error instanceof TokenExchangeError) return void res.status(502).json({ error: error.code });
      next(error);
    }
  };
  app.get('/protected', auth0.requireAuth({ scopes: 'read:messages' }), relay);
  app.get('/unprotected', relay);
  app.use(errorHandler({ onError: () => {} }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
});
