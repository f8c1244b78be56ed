// Benchmark server, run in its own process (forked by run.mjs / memory.mjs): a local issuer (discovery + JWKS)
// and one Express 5 app on 127.0.0.1.
//
//   node bench/server.mjs <mode>     env: BENCH_JWKS (JSON), BENCH_PORT, BENCH_ISSUER_PORT, BENCH_REDIS_URL,
//                                    BENCH_DIST (compiled tree to load instead of build/dist/src)
//
// Modes:
//   demo       the project's demo (src/demo: tsoa routes, auth0-tsoa-api), /api/public and /api/private
//   demo-eojb  the same demo app (createApp: same middleware, same tsoa routes and controllers, same error handler)
//              with express-oauth2-jwt-bearer's `auth()` doing the authentication: tsoa's expressAuthentication
//              finds a stand-in for Auth0Api on the app whose authorize() runs the eojb middleware
//   demo-lib   the same demo app (createApp) with auth0-tsoa-api's Auth0Api, built here rather than by startDemo
//   demo-stub  the same demo app with an authentication that verifies nothing (fixed claims): what tsoa's
//              @Security path costs by itself
//   plain      a plain Express app with the demo's shell (json, urlencoded, /openapi.json, /docs, 404 + error
//              handlers), no tsoa, routes protected by `auth0.requireAuth()`
//   eojb       the same plain shell, routes protected by express-oauth2-jwt-bearer's `auth()`
//
// IPC: sends { ready, url } once listening; answers { cmd: 'stats' } with memory usage and cache sizes; exits
// cleanly on { cmd: 'exit' } (so that --cpu-prof profiles are written).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE } from './lib/fixtures.mjs';

const mode = process.argv[2];
const port = Number(process.env.BENCH_PORT ?? 38180);
const issuerPort = Number(process.env.BENCH_ISSUER_PORT ?? port + 1);
const redisUrl = process.env.BENCH_REDIS_URL || undefined;
// BENCH_DIST: another compiled tree (e.g. a variant of build/dist/src copied under build/) for A/B runs.
const dist = process.env.BENCH_DIST ? pathToFileURL(`${resolve(process.env.BENCH_DIST)}/`) : new URL('../build/dist/src/', import.meta.url);

const issuer = await startIssuer({ port: issuerPort, jwks: JSON.parse(process.env.BENCH_JWKS) });
let url;
let stats = () => ({});

if (mode === 'demo') {
  const { startDemo } = await import(new URL('demo/server.js', dist).href);
  // The demo does not hand out its Auth0Api; catch it on install() to report cache sizes (bench only).
  const { Auth0Api } = await import(new URL('express/index.js', dist).href);
  const install = Auth0Api.prototype.install;
  let api;
  Auth0Api.prototype.install = function (app) {
    api = this;
    return install.call(this, app);
  };
  stats = () => cacheSizes(api?.validator);
  const demo = await startDemo({
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH0_DOMAIN: issuer.origin,
      AUTH0_AUDIENCE: AUDIENCE,
      AUTH0_DPOP: 'allowed',
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    },
    quiet: true,
  });
  url = demo.url;
} else if (mode === 'demo-lib') {
  // The demo app built with createApp() here (like demo-eojb/demo-stub) around the real Auth0Api.
  const { createApp } = await import(new URL('demo/app.js', dist).href);
  const { loadSpec } = await import(new URL('demo/openapi.js', dist).href);
  const { createAuth0Api } = await import(new URL('express/index.js', dist).href);
  const api = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'allowed' } });
  stats = () => cacheSizes(api.validator);
  const app = createApp({ auth0: api, spec: loadSpec({ dpopMode: 'allowed', tokenUrl: `${issuer.origin}/oauth/token` }) });
  await new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', resolve);
    server.once('error', reject);
  });
  url = `http://127.0.0.1:${port}`;
} else if (mode === 'demo-eojb' || mode === 'demo-stub') {
  const { createApp } = await import(new URL('demo/app.js', dist).href);
  const { loadSpec } = await import(new URL('demo/openapi.js', dist).href);
  const { auth } = await import('express-oauth2-jwt-bearer');
  const eojb = auth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, tokenSigningAlg: 'RS256', dpop: { enabled: true } });
  // demo-stub: no verification at all (fixed claims): the cost of tsoa's @Security path itself, the ceiling for
  // any authentication library in this app.
  const stub = (req, _res, next) => {
    req.auth = { payload: { sub: 'auth0|bench-user' }, token: '' };
    next();
  };
  const middleware = mode === 'demo-stub' ? stub : eojb;
  // What a tsoa user of express-oauth2-jwt-bearer writes: expressAuthentication resolves once the middleware ran.
  const peerApi = {
    install(app) {
      app.locals[Symbol.for('auth0-tsoa-api')] = this;
      return this;
    },
    authorize(req) {
      return new Promise((resolve, reject) => {
        middleware(req, req.res, (error) => {
          if (error) return reject(error);
          const { payload, token } = req.auth;
          req.auth = { claims: payload, token, scheme: req.headers.dpop ? 'dpop' : 'bearer', url: req.originalUrl, responseHeaders: {} };
          resolve(req.auth);
        });
      });
    },
  };
  const app = createApp({ auth0: peerApi, spec: loadSpec({ dpopMode: 'allowed', tokenUrl: `${issuer.origin}/oauth/token` }) });
  await new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', resolve);
    server.once('error', reject);
  });
  url = `http://127.0.0.1:${port}`;
} else if (mode === 'plain' || mode === 'eojb') {
  const { default: express } = await import('express');
  const { default: swaggerUi } = await import('swagger-ui-express');
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  const spec = { openapi: '3.0.0', info: { title: 'bench', version: '1' }, paths: {} };
  let protect;
  let errorHandler;
  if (mode === 'plain') {
    const ex = await import(new URL('express/index.js', dist).href);
    const core = await import(new URL('core/index.js', dist).href);
    const replayStore = redisUrl ? await redisStore(core) : new core.MemoryReplayStore();
    const auth0 = ex.createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'allowed', replayStore } });
    auth0.install(app);
    protect = auth0.requireAuth();
    errorHandler = ex.errorHandler();
    stats = () => cacheSizes(auth0.validator);
  } else {
    const { auth } = await import('express-oauth2-jwt-bearer');
    protect = auth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, tokenSigningAlg: 'RS256', dpop: { enabled: true } });
    errorHandler = (err, _req, res, _next) => {
      res.status(err.status ?? 500);
      if (err.headers) res.set(err.headers);
      res.json({ error: err.code ?? 'server_error', error_description: err.message });
    };
  }
  app.get('/openapi.json', (_req, res) => res.json(spec));
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(spec));
  app.get('/api/public', (_req, res) => res.json({ message: 'Hello from a public endpoint! No authentication needed.' }));
  app.get('/api/private', protect, (req, res) => res.json({ user: req.auth?.claims?.sub ?? req.auth?.payload?.sub }));
  app.use((_req, res) => res.status(404).json({ error: 'not_found' }));
  app.use(errorHandler);
  await new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', resolve);
    server.once('error', reject);
  });
  url = `http://127.0.0.1:${port}`;
} else {
  throw new Error(`unknown mode ${mode}`);
}

/** Sizes of the validator's caches, read from its (TypeScript-private) fields; undefined when renamed. */
function cacheSizes(validator) {
  if (!validator) return {};
  const issuers = validator.issuers instanceof Map ? [...validator.issuers.values()] : [];
  return {
    tokenCache: validator.tokens?.size,
    replayStore: validator.replayStore?.size,
    issuers: issuers.length,
    jwksKids: issuers.reduce((n, c) => n + (c.keys?.peek?.()?.byKid?.size ?? 0), 0),
  };
}

async function redisStore(core) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
  redis.on('error', () => {});
  await new Promise((resolve) => redis.once('ready', resolve));
  return new core.RedisReplayStore(redis, { prefix: `auth0-tsoa-api-bench:${process.pid}:` });
}

let session; // CPU profile of the measured window only (not start-up): { cmd: 'profile-start' | 'profile-stop', file }
async function profile(msg) {
  if (msg.cmd === 'profile-start') {
    const inspector = await import('node:inspector/promises');
    session = new inspector.Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    process.send({ profiling: true });
  } else {
    const { profile: data } = await session.post('Profiler.stop');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(msg.file, JSON.stringify(data));
    process.send({ profiled: msg.file });
  }
}

process.on('message', (msg) => {
  if (msg?.cmd === 'exit') process.exit(0);
  if (msg?.cmd === 'profile-start' || msg?.cmd === 'profile-stop') void profile(msg);
  if (msg?.cmd === 'stats') {
    globalThis.gc?.();
    process.send({ stats: { memory: process.memoryUsage(), issuer: { ...issuer.counts }, ...stats() } });
  }
});
process.send({ ready: true, url });
process.on('disconnect', () => process.exit(0)); // the benchmark parent went away
