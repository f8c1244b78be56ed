// Benchmark server, run in its own process (forked by run.mjs / memory.mjs): a local issuer (discovery + JWKS)
// and one Express 5 app on 127.0.0.1.
//
//   node bench/server.mjs <mode>     env: BENCH_JWKS (JSON), BENCH_PORT, BENCH_ISSUER_PORT or BENCH_ISSUER_ORIGIN,
//                                    BENCH_REDIS_URL,
//                                    BENCH_DIST (compiled tree to load instead of build/dist/src),
//                                    BENCH_PRELOAD (a module imported first, path relative to the repository root,
//                                    e.g. one that registers an OpenTelemetry SDK), BENCH_CACHE_SIZES=1 (report
//                                    cache sizes in stats)
//
// Only public entry points are loaded: the package root (build/dist/src/index.js) and the demo's startDemo,
// createApp and loadSpec — and, for the stand-in authenticators, getAuth's adapter hook (see demo-stub).
//
// Modes:
//   demo       the project's demo as `npm start` runs it (startDemo: tsoa routes, auth0-tsoa-api), /api/public and
//              /api/private
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
// IPC: sends { ready, url } once listening; answers { cmd: 'usage' } with CPU time and memory (no GC: it does not
// disturb a measurement) and { cmd: 'stats' } with memory after a forced GC (and cache sizes when asked for);
// exits cleanly on { cmd: 'exit' } (so that --cpu-prof profiles are written).
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startIssuer } from './lib/issuer.mjs';
import { AUDIENCE } from './lib/fixtures.mjs';

// A path relative to the repository root, e.g. bench/lib/otel-sdk.mjs.
if (process.env.BENCH_PRELOAD) await import(pathToFileURL(resolve(fileURLToPath(new URL('..', import.meta.url)), process.env.BENCH_PRELOAD)).href);

const mode = process.argv[2];
const port = Number(process.env.BENCH_PORT ?? 38180);
const issuerPort = Number(process.env.BENCH_ISSUER_PORT ?? port + 1);
const redisUrl = process.env.BENCH_REDIS_URL || undefined;
// BENCH_DIST: another compiled tree (e.g. a variant of build/dist/src copied under build/) for A/B runs.
const dist = process.env.BENCH_DIST ? pathToFileURL(`${resolve(process.env.BENCH_DIST)}/`) : new URL('../build/dist/src/', import.meta.url);
const load = async (path, what) => {
  try {
    return await import(new URL(path, dist).href);
  } catch (error) {
    throw new Error(`bench server: cannot load ${what} from ${new URL(path, dist).pathname} (run npm run build): ${error.message}`);
  }
};
const lib = () => load('index.js', 'the package entry point');
const demoApp = async () => ({ ...(await load('demo/app.js', 'the demo app (createApp)')), ...(await load('demo/openapi.js', 'the demo spec (loadSpec)')) });

// BENCH_ISSUER_ORIGIN: an issuer already running (run.mjs hosts one for all the servers of a round, so that several
// servers on different ports accept the same tokens); otherwise this process starts its own on BENCH_ISSUER_PORT.
const issuer = process.env.BENCH_ISSUER_ORIGIN ? sharedIssuer(process.env.BENCH_ISSUER_ORIGIN) : await startIssuer({ port: issuerPort, jwks: JSON.parse(process.env.BENCH_JWKS) });
function sharedIssuer(origin) {
  return { origin, issuer: `${origin}/`, jwksUri: `${origin}/.well-known/jwks.json`, counts: {} };
}
let url;
let stats = () => ({});

if (mode === 'demo' || mode === 'demo-koa' || mode === 'demo-hapi') {
  const { startDemo } = await load('demo/server.js', 'the demo (startDemo)');
  // The demo does not hand out its Auth0Api; BENCH_CACHE_SIZES=1 catches it on install() to report cache sizes
  // (memory.mjs only). Internal fields: whatever is missing or renamed is left out, never an error.
  if (process.env.BENCH_CACHE_SIZES) {
    const { Auth0Api } = await lib();
    const install = Auth0Api?.prototype?.install;
    if (typeof install === 'function') {
      let api;
      Auth0Api.prototype.install = function (...args) {
        api = this;
        return install.apply(this, args);
      };
      stats = () => cacheSizes(api?.validator);
    }
  }
  const demo = await startDemo({
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH0_DOMAIN: issuer.origin,
      AUTH0_AUDIENCE: AUDIENCE,
      AUTH0_DPOP: 'allowed',
      // The same demo on Koa or hapi (DEMO_FRAMEWORK): one row each in bench/instructions.mjs.
      DEMO_FRAMEWORK: mode === 'demo' ? 'express' : mode.slice('demo-'.length),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    },
    quiet: true,
  });
  url = demo.url;
} else if (mode === 'demo-lib') {
  // The demo app built with createApp() here (like demo-eojb/demo-stub) around the real Auth0Api.
  const { createApp, loadSpec } = await demoApp();
  const { createAuth0Api } = await lib();
  const api = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'allowed' } });
  if (process.env.BENCH_CACHE_SIZES) stats = () => cacheSizes(api.validator);
  const app = createApp({ auth0: api, spec: loadSpec({ dpopMode: 'allowed', tokenUrl: `${issuer.origin}/oauth/token` }) });
  await new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', resolve);
    server.once('error', reject);
  });
  url = `http://127.0.0.1:${port}`;
} else if (mode === 'demo-eojb' || mode === 'demo-stub') {
  const { createApp, loadSpec } = await demoApp();
  // demo-stub: no verification at all (fixed claims): the cost of tsoa's @Security path itself, the ceiling for
  // any authentication library in this app.
  const stub = (req, _res, next) => {
    req.auth = { payload: { sub: 'auth0|bench-user' }, token: '' };
    next();
  };
  const middleware = mode === 'demo-stub' ? stub : (await import('express-oauth2-jwt-bearer')).auth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, tokenSigningAlg: 'RS256', dpop: { enabled: true } });
  // What a tsoa user of express-oauth2-jwt-bearer writes: expressAuthentication resolves once the middleware ran.
  // The stand-in is a real Auth0Api (so that install() registers it however the library does) whose authorize()
  // runs the middleware instead; tsoa's expressAuthentication calls authorize().
  const { createAuth0Api } = await lib();
  // The demo's controllers read the caller with getAuth(request). A stand-in is not an adapter of the library, so it
  // tells getAuth where its result is — `req.auth`, which it sets anyway — through the hook the Express adapter uses
  // (internal: the one module loaded here that is not an entry point). No other cost is added to the stand-ins.
  const { readAuthFrom } = await load('core/http/request-auth.js', "getAuth's hook for adapters");
  readAuthFrom((req) => req.auth);
  const peerApi = createAuth0Api({ domain: issuer.origin, audience: AUDIENCE });
  peerApi.authorize = (req) =>
    new Promise((resolve, reject) => {
      middleware(req, req.res, (error) => {
        if (error) return reject(error);
        const { payload, token } = req.auth;
        req.auth = { claims: payload, token, scheme: req.headers.dpop ? 'dpop' : 'bearer', url: req.originalUrl, responseHeaders: {} };
        resolve(req.auth);
      });
    });
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
    const ours = await lib();
    const replayStore = redisUrl ? await redisStore(ours) : new ours.MemoryReplayStore();
    const auth0 = ours.createAuth0Api({ domain: issuer.origin, audience: AUDIENCE, dpop: { mode: 'allowed', replayStore } });
    auth0.install(app);
    protect = auth0.requireAuth();
    errorHandler = ours.errorHandler();
    if (process.env.BENCH_CACHE_SIZES) stats = () => cacheSizes(auth0.validator);
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

/** Sizes of the validator's caches, read from its (TypeScript-private) fields; left out when renamed. */
function cacheSizes(validator) {
  if (!validator) return {};
  try {
    return cacheSizesOf(validator);
  } catch {
    return {};
  }
}

function cacheSizesOf(validator) {
  // The services built once per validator (src/core/services.ts): the issuer pool's clients, the token verifier's cache, the DPoP replay store.
  const clients = validator.issuers?.clients;
  const issuers = clients instanceof Map ? [...clients.values()] : [];
  return {
    tokenCache: validator.tokens?.cacheSize,
    replayStore: validator.dpop?.services?.replayStore?.size,
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
  if (msg?.cmd === 'usage') {
    // getrusage(RUSAGE_SELF): every thread of this process, including exited ones (event loop, libuv thread pool,
    // V8 GC and compiler threads).
    const { user, system } = process.cpuUsage();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const { involuntaryContextSwitches: preempted } = process.resourceUsage();
    process.send({ usage: { cpu: user + system, user, system, preempted, rss, heapUsed, heapTotal, external } });
  }
  if (msg?.cmd === 'profile-start' || msg?.cmd === 'profile-stop') void profile(msg);
  if (msg?.cmd === 'stats') {
    globalThis.gc?.();
    process.send({ stats: { memory: process.memoryUsage(), issuer: { ...issuer.counts }, ...stats() } });
  }
});
process.send({ ready: true, url });
process.on('disconnect', () => process.exit(0)); // the benchmark parent went away
