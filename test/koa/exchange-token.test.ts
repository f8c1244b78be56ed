/**
 * `auth0.exchangeToken(ctx, { audience, scope })` on Koa (docs/decisions.md D24): the rules every adapter keeps
 * (test/support/exchange-suite.ts), with `requireAuth` and the Koa errorHandler().
 */
import type { AddressInfo } from 'node:net';
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import { createKoaAuth0Api, errorHandler } from '../../src/koa/index.js';
import { TokenExchangeError } from '../../src/core/index.js';
import { DOWNSTREAM, describeTokenExchange } from '../support/exchange-suite.js';

describeTokenExchange('Koa', async (options) => {
  const auth0 = createKoaAuth0Api(options);
  const app = new Koa();
  app.use(errorHandler({ onError: () => {} }));
  auth0.install(app);
  const relay = async (ctx: Context) => {
    try {
      ctx.body = { token: await auth0.exchangeToken(ctx, { audience: DOWNSTREAM, scope: 'read:items' }) };
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      ctx.status = 502;
      ctx.body = { error: error.code };
    }
  };
  const router = new Router();
  router.get('/protected', auth0.requireAuth({ scopes: 'read:messages' }), relay);
  router.get('/unprotected', relay);
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
});
