/**
 * The built demo as a user runs it (`node build/dist/src/demo/server.js`) with the standard OpenTelemetry variables
 * (docs/decisions.md D30), the exporting cases on each framework (`DEMO_FRAMEWORK`):
 * - `OTEL_METRICS_EXPORTER=prometheus` on a free port: after a known mix of requests, `/metrics` serves the Prometheus
 *   text format with every instrument of docs/decisions.md D30 (dots as underscores, counters with `_total`), counts exact.
 * - `OTEL_TRACES_EXPORTER=otlp`: the spans reach an OTLP/HTTP endpoint, `auth.authenticate` a child of the HTTP server
 *   span, which continues the caller's W3C `traceparent`. The endpoint is a small local HTTP server that keeps what it
 *   receives: no OpenTelemetry Collector can run here (the one stand-in of this file).
 * - no `OTEL_*` variable: no SDK module is loaded at all.
 * Real local identity provider, real DPoP proofs; nothing in any export contains a token, proof or subject.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop';
import { TestIssuer } from '../support/test-issuer.js';
import { closedPort } from '../support/helpers.js';
import { describeFrameworks } from '../support/demo.js';
import type { Framework } from '../../src/demo/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = 'build/dist/src/demo/server.js';
const AUDIENCE = 'https://api.example.com';
const SUB = `auth0|otel-http-${randomUUID()}`;

let issuer: TestIssuer;
const children: ChildProcess[] = [];
const secrets: string[] = [SUB];

beforeAll(async () => {
  // No-op when the build is up to date (npm test builds first); builds when run alone after a change.
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  issuer = await TestIssuer.start();
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await issuer?.close();
});

interface Demo {
  url: string;
  stdout: () => string;
  stop(): Promise<number | null>;
}

/** Starts the built demo on `framework` with a clean environment plus `vars`; resolves once it prints its listening line. */
async function startDemo(framework: Framework, vars: Record<string, string>): Promise<Demo> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', AUTH0_DOMAIN: issuer.origin, AUTH0_AUDIENCE: AUDIENCE, AUTH0_DPOP: 'allowed', DEMO_FRAMEWORK: framework, ...vars };
  const child = spawn(process.execPath, [SERVER], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const deadline = Date.now() + 20_000;
  let match: RegExpExecArray | null = null;
  while (!(match = /listening on (http:\/\/\S+)/.exec(out))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`demo did not start: ${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: match[1]!,
    stdout: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      return child.exitCode;
    },
  };
}

/**
 * A local OTLP/HTTP trace receiver for the enclosing describe (started before its tests, closed after): the JSON bodies
 * the demo exported to `/v1/traces`, and the endpoint to give it.
 */
function otlpReceiver(): { bodies: string[]; endpoint: () => string } {
  let receiver: Server;
  const bodies: string[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });
  return { bodies, endpoint: () => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces` };
}

async function token(claims: Record<string, unknown> = {}): Promise<string> {
  const minted = await issuer.token(AUDIENCE, { sub: SUB, ...claims });
  secrets.push(minted, minted.split('.')[2]!);
  return minted;
}

/** Prometheus text format: `name{label="value",...} number` samples. */
function parseSamples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

describeFrameworks((framework) => {
  describe('OTEL_METRICS_EXPORTER=prometheus', () => {
    it('serves every instrument family (docs/decisions.md D30) with exact counts after a known mix of requests', async () => {
      const metricsPort = await closedPort();
      const demo = await startDemo(framework, { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) });
      try {
        expect(demo.stdout()).toContain(`metrics http://127.0.0.1:${metricsPort}/metrics`);
        const call = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${demo.url}${path}`, { method, headers }).then((r) => r.status);
        const reader = await token({ scope: 'read:messages' });
        const expired = await token({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 });
        const keyPair = await generateKeyPair('ES256');
        const bound = await token({ cnf: { jkt: await calculateThumbprint(keyPair.publicKey) } });
        const proof = await generateProof(keyPair, `${demo.url}/api/private`, 'GET', undefined, bound);
        secrets.push(proof);

        // The mix, one request at a time (so that exactly one key-set fetch happens):
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push(await call('/api/private', { authorization: `Bearer ${reader}` })); // bearer success, granted ×3
        statuses.push(await call('/api/messages', { authorization: `Bearer ${reader}` })); // bearer success, granted
        statuses.push(await call('/api/data', { authorization: `Bearer ${reader}` }, 'POST')); // bearer success, denied (403)
        statuses.push(await call('/api/private'), await call('/api/private')); // none: unauthorized ×2
        statuses.push(await call('/api/private', { authorization: `Bearer ${expired}` })); // bearer: invalid_token
        statuses.push(await call('/api/private', { authorization: `DPoP ${bound}`, dpop: proof })); // dpop success (fresh), granted
        statuses.push(await call('/api/private', { authorization: `DPoP ${bound}`, dpop: proof })); // dpop: invalid_dpop_proof (replay)
        statuses.push(await call('/api/public')); // no authentication at all
        expect(statuses).toEqual([200, 200, 200, 200, 403, 401, 401, 401, 200, 401, 200]);

        const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        const text = await response.text();
        for (const [family, type] of [
          ['auth_authentication_attempts_total', 'counter'],
          ['auth_authentication_duration', 'histogram'],
          ['auth_authorization_attempts_total', 'counter'],
          ['auth_jwks_fetches_total', 'counter'],
          ['auth_token_cache_lookups_total', 'counter'],
          ['auth_dpop_replay_checks_total', 'counter'],
        ]) {
          expect(text).toContain(`# TYPE ${family} ${type}\n`);
        }

        const samples = parseSamples(text).filter((s) => s.name.startsWith('auth_'));
        for (const s of samples) expect(s.labels.otel_scope_name).toBe('auth0-tsoa-api');
        /** The value of the one sample with exactly these labels (besides the scope's). */
        const value = (name: string, labels: Record<string, string>) => {
          const found = samples.filter((s) => {
            const { otel_scope_name: _n, otel_scope_version: _v, ...own } = s.labels;
            return s.name === name && JSON.stringify(Object.entries(own).sort()) === JSON.stringify(Object.entries(labels).sort());
          });
          expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
          return found[0]!.value;
        };
        const countOf = (name: string) => samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);

        const attempts = {
          bearerSuccess: { auth_scheme: 'bearer', auth_outcome: 'success' },
          dpopSuccess: { auth_scheme: 'dpop', auth_outcome: 'success' },
          none: { auth_scheme: 'none', auth_outcome: 'failure', error_type: 'unauthorized' },
          expired: { auth_scheme: 'bearer', auth_outcome: 'failure', error_type: 'invalid_token' },
          replay: { auth_scheme: 'dpop', auth_outcome: 'failure', error_type: 'invalid_dpop_proof' },
        };
        const expected = { bearerSuccess: 5, dpopSuccess: 1, none: 2, expired: 1, replay: 1 };
        for (const [key, labels] of Object.entries(attempts)) {
          expect(value('auth_authentication_attempts_total', labels), key).toBe(expected[key as keyof typeof expected]);
          expect(value('auth_authentication_duration_count', labels), key).toBe(expected[key as keyof typeof expected]);
          expect(value('auth_authentication_duration_bucket', { ...labels, le: '+Inf' }), key).toBe(expected[key as keyof typeof expected]);
        }
        expect(countOf('auth_authentication_attempts_total')).toBe(10);
        expect(value('auth_authorization_attempts_total', { auth_outcome: 'granted' })).toBe(5);
        expect(value('auth_authorization_attempts_total', { auth_outcome: 'denied' })).toBe(1);
        expect(countOf('auth_authorization_attempts_total')).toBe(6);
        expect(value('auth_jwks_fetches_total', { auth_outcome: 'success' })).toBe(1);
        expect(countOf('auth_jwks_fetches_total')).toBe(1);
        // A token enters the verified-token cache on its second use (docs/decisions.md D38): the first two uses miss.
        expect(value('auth_token_cache_lookups_total', { auth_cache_result: 'miss' })).toBe(5); // reader ×2, expired, bound ×2
        expect(value('auth_token_cache_lookups_total', { auth_cache_result: 'hit' })).toBe(3); // reader ×3
        expect(value('auth_dpop_replay_checks_total', { auth_outcome: 'fresh' })).toBe(1);
        expect(value('auth_dpop_replay_checks_total', { auth_outcome: 'replay' })).toBe(1);
        expect(countOf('auth_dpop_replay_checks_total')).toBe(2);

        for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      } finally {
        expect(await demo.stop()).toBe(0);
      }
    });
  });

  describe('OTEL_TRACES_EXPORTER=otlp', () => {
    const { bodies, endpoint } = otlpReceiver();

    it('exports auth.authenticate as a child of the HTTP server span, in the caller’s trace', async () => {
      const demo = await startDemo(framework, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint(), OTEL_SERVICE_NAME: 'telemetry-http-test' });
      const traceId = randomBytes(16).toString('hex');
      const callerSpanId = randomBytes(8).toString('hex');
      const bearer = await token();
      expect((await fetch(`${demo.url}/api/private`, { headers: { authorization: `Bearer ${bearer}`, traceparent: `00-${traceId}-${callerSpanId}-01` } })).status).toBe(200);
      expect((await fetch(`${demo.url}/api/private`)).status).toBe(401);
      expect(await demo.stop()).toBe(0); // shutting down flushes the batch

      type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Array<{ key: string; value: { stringValue?: string } }> };
      const exports = bodies.map((b) => JSON.parse(b) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }> });
      const resources = exports.flatMap((e) => e.resourceSpans);
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'telemetry-http-test' } });
      const spans = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, scope: s.scope.name }))));
      const attr = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;
      const auth = spans.filter((s) => s.name === 'auth.authenticate');
      expect(auth.map((s) => [attr(s, 'auth.scheme'), attr(s, 'auth.outcome'), attr(s, 'error.type')])).toEqual([
        ['bearer', 'success', undefined],
        ['none', 'failure', 'unauthorized'],
      ]);
      for (const span of auth) {
        const parent = spans.find((s) => s.spanId === span.parentSpanId);
        expect(parent?.scope).toBe('@opentelemetry/instrumentation-http');
        expect(parent?.kind).toBe(2); // SPAN_KIND_SERVER
        expect(parent?.traceId).toBe(span.traceId);
      }
      const server = spans.find((s) => s.spanId === auth[0]!.parentSpanId)!;
      expect([server.traceId, server.parentSpanId]).toEqual([traceId, callerSpanId]); // W3C trace context honoured
      // The key set was fetched at start-up (`ready()`), outside any request's trace: no request waited for it.
      const fetches = spans.filter((s) => s.name === 'auth.jwks.fetch');
      expect(fetches).toHaveLength(1);
      expect(fetches[0]!.traceId).not.toBe(traceId);
      expect(spans.some((s) => s.parentSpanId === auth[0]!.spanId && s.name === 'auth.jwks.fetch')).toBe(false);

      const everything = bodies.join('\n');
      for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
    });
  });

  describe('OTEL_TRACES_EXPORTER=otlp,console: a token in the query string is never exported', () => {
    const { bodies, endpoint } = otlpReceiver();

    it('?access_token=<token> (any spelling) reaches neither exporter: url.query is REDACTED, no part of the token anywhere', async () => {
      // Old code: the server span carried url.query=access_token=<token>, exported as is.
      const demo = await startDemo(framework, { OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint() });
      const leaked = await token();
      const header = await token();
      const queries: Array<[string, number]> = [
        [`access_token=${leaked}`, 401],
        [`x=1&access_token[]=${leaked}`, 401],
        [`page=2&acc%65ss_token=${encodeURIComponent(leaked)}`, 401],
        [leaked, 200], // a bare token as a parameter name: not an access_token parameter, still not exported
      ];
      for (const [query, status] of queries) expect((await fetch(`${demo.url}/api/feed?${query}`)).status).toBe(status);
      expect((await fetch(`${demo.url}/api/private?access_token=${leaked}`, { headers: { authorization: `Bearer ${header}` } })).status).toBe(400);
      expect(await demo.stop()).toBe(0); // flushes the batch

      type OtlpSpan = { name: string; kind: number; attributes: Array<{ key: string; value: { stringValue?: string } }> };
      const spans = bodies.flatMap((b) => (JSON.parse(b) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
      const servers = spans.filter((s) => s.kind === 2);
      expect(servers).toHaveLength(queries.length + 1); // the spans are there: what they lack is the token
      for (const span of servers) {
        const attr = (key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;
        expect(attr('url.query')).toBe('REDACTED');
        expect(attr('url.path')).toMatch(/^\/api\/(feed|private)$/);
      }
      const console = demo.stdout();
      expect(console).toContain("'url.query': 'REDACTED'"); // the console exporter printed the server spans
      const parts = [...leaked.split('.'), leaked.slice(0, 24), leaked.slice(-24), ...header.split('.').slice(1)];
      for (const exported of [bodies.join('\n'), console]) {
        for (const part of parts) expect(exported.includes(part), `a part of the token (${part.slice(0, 12)}…) was exported`).toBe(false);
      }
    });
  });
});

describe('no OTEL_* variable', () => {
  // CommonJS packages (all of OpenTelemetry's) land in require.cache even when loaded by `import`.
  const script = (vars: Record<string, string>) => `
    const { startDemo } = await import(${JSON.stringify(`${ROOT}${SERVER}`)});
    const { createRequire } = await import('node:module');
    const demo = await startDemo({ quiet: true, env: ${JSON.stringify({ HOST: '127.0.0.1', PORT: '0', AUTH0_AUDIENCE: AUDIENCE, ...vars })} });
    const loaded = Object.keys(createRequire(${JSON.stringify(ROOT)}).cache).filter((p) => p.includes('@opentelemetry'));
    await demo.close();
    console.log(JSON.stringify([...new Set(loaded.map((p) => p.split('@opentelemetry/')[1].split('/')[0]))].sort()));
  `;
  const loadedPackages = (vars: Record<string, string>) =>
    JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script({ AUTH0_DOMAIN: issuer.origin, ...vars })], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } }).trim()) as string[];

  it('loads only @opentelemetry/api (the library’s no-op), and the SDK when asked to', async () => {
    expect(loadedPackages({})).toEqual(['api']);
    const port = await closedPort();
    expect(loadedPackages({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) })).toEqual(expect.arrayContaining(['api', 'exporter-prometheus', 'sdk-metrics']));
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['an unknown exporter', [], { OTEL_TRACES_EXPORTER: 'jaeger' }, /OTEL_TRACES_EXPORTER.*"jaeger".*otlp, console, none/],
    ['a port of 0', [], { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '0' }, /OTEL_EXPORTER_PROMETHEUS_PORT.*1 to 65535/],
    // An SDK the process registered itself (node --import): the demo's own would silently not be the one used.
    ['a tracer provider already registered', ['--import', './bench/lib/otel-sdk.mjs'], { OTEL_TRACES_EXPORTER: 'console', BENCH_OTEL: 'traces' }, /OTEL_TRACES_EXPORTER.*already registered/],
    [
      'a Prometheus port in use',
      [],
      { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: 'busy' },
      /OTEL_EXPORTER_PROMETHEUS_PORT.*cannot serve metrics on 127\.0\.0\.1:\d+ .*choose a free port/,
    ],
  ])('refuses %s with one line naming the variable', async (_what, nodeArgs, vars, message) => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => busy.close(() => resolve())));
    const port = vars.OTEL_EXPORTER_PROMETHEUS_PORT === 'busy' ? { OTEL_EXPORTER_PROMETHEUS_PORT: String((busy.address() as AddressInfo).port) } : {};
    const child = spawn(process.execPath, [...nodeArgs, SERVER], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', AUTH0_DOMAIN: issuer.origin, AUTH0_AUDIENCE: AUDIENCE, ...vars, ...port },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });
});
