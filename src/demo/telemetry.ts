/**
 * The demo's OpenTelemetry SDK, set up from the standard environment variables. server.ts imports this module only
 * when `OTEL_METRICS_EXPORTER`, `OTEL_TRACES_EXPORTER` or `OTEL_SERVICE_NAME` is set, and this module imports each SDK package only when it is used: a demo
 * without them loads no SDK (the library itself then reports to `@opentelemetry/api`'s no-op).
 *
 * - `OTEL_METRICS_EXPORTER`: `prometheus` (a pull endpoint at `http://OTEL_EXPORTER_PROMETHEUS_HOST:PORT/metrics`,
 *   default `localhost:9464`), `console`, `none`.
 * - `OTEL_TRACES_EXPORTER`: `otlp` (OTLP/HTTP JSON to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, default `http://localhost:4318/v1/traces`), `console`, `none`.
 *   With traces on, HTTP server spans come from `@opentelemetry/instrumentation-http`, so `auth.authenticate` shows as
 *   their child.
 * - `OTEL_SERVICE_NAME` names the service (default `auth0-tsoa-api-demo`); `OTEL_SDK_DISABLED=true` turns it all off.
 *
 * Spans never carry a credential: the HTTP instrumentation records the request's query (`url.query`), which may hold
 * `?access_token=…` (RFC 6750 §2.3), so the server span gets the query as `REDACTED` from the start, and every exporter
 * is wrapped so that the query of any URL attribute and any Authorization, DPoP or Cookie header attribute is
 * redacted before it sees a span (see {@link redactAttributes}).
 *
 * Unlike the specification's default (`otlp`), an exporter variable left unset means none: a demo that asked only
 * for Prometheus must not fail exporting spans to a collector that is not there.
 */
import { createRequire } from 'node:module';
import type { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Attributes } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { ConfigurationError } from '../core/errors.js';

const REDACTED = 'REDACTED';
/** Attributes holding a whole query string. */
const QUERY_ATTRIBUTES = new Set(['url.query']);
/** Attributes holding a URL or request target, whose query is redacted. */
const URL_ATTRIBUTES = new Set(['url.full', 'url.original', 'http.url', 'http.target']);
/** Captured headers that carry credentials (`http.request.header.<name>`, and the old `http.request.header.<name>`). */
const CREDENTIAL_HEADER = /^http\.request\.header\.(?:authorization|proxy[-_]authorization|dpop|cookie)$/i;

/**
 * A copy of `attributes` without credentials: the query of URL attributes and `url.query` replaced by `REDACTED`,
 * Authorization/DPoP/Cookie header attributes redacted. Returns the same object when nothing needed it.
 */
export function redactAttributes(attributes: Attributes): Attributes {
  let out: Attributes | undefined;
  for (const [key, value] of Object.entries(attributes)) {
    let replacement: Attributes[string] = value;
    if (QUERY_ATTRIBUTES.has(key)) replacement = REDACTED;
    else if (URL_ATTRIBUTES.has(key) && typeof value === 'string' && value.includes('?')) replacement = `${value.slice(0, value.indexOf('?'))}?${REDACTED}`;
    else if (CREDENTIAL_HEADER.test(key)) replacement = Array.isArray(value) ? value.map(() => REDACTED) : REDACTED;
    if (replacement !== value) (out ??= { ...attributes })[key] = replacement;
  }
  return out ?? attributes;
}

/** The span as exporters see it: the same span, with redacted attributes (its own and its events'). */
function redactSpan(span: ReadableSpan): ReadableSpan {
  const attributes = redactAttributes(span.attributes);
  let eventsChanged = false;
  const events = span.events.map((event) => {
    const redacted = event.attributes && redactAttributes(event.attributes);
    if (redacted === event.attributes) return event;
    eventsChanged = true;
    return { ...event, attributes: redacted };
  });
  if (attributes === span.attributes && !eventsChanged) return span;
  return Object.create(span, { attributes: { value: attributes, enumerable: true }, events: { value: events, enumerable: true } }) as ReadableSpan;
}

/** Wraps an exporter so that it only ever receives redacted spans. */
function redactingExporter(inner: SpanExporter): SpanExporter {
  return {
    export: (spans, done) => inner.export(spans.map(redactSpan), done),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

const METRICS_EXPORTERS = ['prometheus', 'console', 'none'] as const;
const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;

/** The demo's telemetry, as started. */
export interface DemoTelemetry {
  serviceName: string;
  /** The Prometheus scrape URL, when `OTEL_METRICS_EXPORTER=prometheus`. */
  metricsUrl: string | undefined;
  tracesExporters: readonly string[];
  /** Flushes spans, stops the Prometheus endpoint and unregisters the global providers. */
  shutdown(): Promise<void>;
}

/** A comma-separated exporter list (the specification allows several), each checked against `allowed`. */
function exporterList<T extends string>(variable: string, value: string | undefined, allowed: readonly T[]): T[] {
  const list = (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
  for (const item of list) {
    if (!(allowed as readonly string[]).includes(item)) throw new ConfigurationError(variable, `"${item}" is not supported here; use ${allowed.join(', ')}`);
  }
  return (list as T[]).filter((item) => item !== 'none');
}

function prometheusPort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 9464;
  const port = Number(value.trim());
  // The exporter reads 0 as "unset" (9464): refuse it rather than listen somewhere unexpected.
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigurationError('OTEL_EXPORTER_PROMETHEUS_PORT', `expected a port number from 1 to 65535, got "${value}"`);
  return port;
}

/** Starts the SDK `env` asks for, or returns undefined when it asks for nothing (or `OTEL_SDK_DISABLED=true`). */
export async function startTelemetry(env: NodeJS.ProcessEnv): Promise<DemoTelemetry | undefined> {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const metricsExporters = exporterList('OTEL_METRICS_EXPORTER', env.OTEL_METRICS_EXPORTER, METRICS_EXPORTERS);
  const tracesExporters = exporterList('OTEL_TRACES_EXPORTER', env.OTEL_TRACES_EXPORTER, TRACES_EXPORTERS);
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || 'auth0-tsoa-api-demo';
  const api = await import('@opentelemetry/api');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const resource = resourceFromAttributes({ 'service.name': serviceName });

  const stops: Array<() => Promise<void>> = [];
  const shutdown = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    let metricsUrl: string | undefined;
    let meterProvider: MeterProvider | undefined;
    if (metricsExporters.length > 0) {
      const sdk = await import('@opentelemetry/sdk-metrics');
      const readers: MetricReader[] = [];
      for (const kind of metricsExporters) {
        if (kind === 'prometheus') {
          const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
          const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || 'localhost';
          const port = prometheusPort(env.OTEL_EXPORTER_PROMETHEUS_PORT);
          let exporter!: InstanceType<typeof PrometheusExporter>;
          await new Promise<void>((resolve, reject) => {
            exporter = new PrometheusExporter({ host, port }, (error) => (error ? reject(error) : resolve()));
          }).catch(async (error: Error) => {
            await exporter.shutdown().catch(() => {});
            throw new ConfigurationError('OTEL_EXPORTER_PROMETHEUS_PORT', `cannot serve metrics on ${host}:${port} (${error.message}); choose a free port`);
          });
          readers.push(exporter);
          metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
        } else {
          const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
          readers.push(new sdk.PeriodicExportingMetricReader({ exporter: new sdk.ConsoleMetricExporter(), exportIntervalMillis: interval }));
        }
      }
      meterProvider = new sdk.MeterProvider({ resource, readers });
      const provider = meterProvider;
      stops.push(() => provider.shutdown());
      if (!api.metrics.setGlobalMeterProvider(meterProvider)) {
        throw new ConfigurationError('OTEL_METRICS_EXPORTER', 'an OpenTelemetry meter provider is already registered in this process; unset the variable to use that one');
      }
      stops.push(async () => api.metrics.disable());
    }

    if (tracesExporters.length > 0) {
      // register() would fail silently next to an SDK the process already registered (e.g. with node --import).
      const current = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
      if (current.getDelegate?.() !== new api.ProxyTracerProvider().getDelegate()) {
        throw new ConfigurationError('OTEL_TRACES_EXPORTER', 'an OpenTelemetry tracer provider is already registered in this process; unset the variable to use that one');
      }
      const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
      const { BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base');
      const spanProcessors = [];
      for (const kind of tracesExporters) {
        if (kind === 'console') {
          spanProcessors.push(new SimpleSpanProcessor(redactingExporter(new ConsoleSpanExporter())));
        } else {
          const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
          const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim().replace(/\/+$/, '');
          const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (base ? `${base}/v1/traces` : undefined);
          spanProcessors.push(new BatchSpanProcessor(redactingExporter(new OTLPTraceExporter(url ? { url } : {}))));
        }
      }
      const tracerProvider: NodeTracerProvider = new NodeTracerProvider({ resource, spanProcessors });
      // Global tracer provider, the AsyncLocalStorage context manager (spans follow awaits), W3C trace context.
      tracerProvider.register();
      stops.push(async () => {
        await tracerProvider.shutdown();
        api.trace.disable();
        api.context.disable();
        api.propagation.disable();
      });
      await serverSpans(tracerProvider, meterProvider, stops);
    }
    return { serviceName, metricsUrl, tracesExporters, shutdown };
  } catch (error) {
    await shutdown();
    throw error;
  }
}

/**
 * HTTP server spans from the official instrumentation, without an ESM loader hook: it patches `node:http` when the
 * module is next `require`d (require-in-the-middle), and the patch is on `http.Server.prototype`, which the demo's
 * ES-module `createServer` shares. So one `require('node:http')` after registering applies it to every server.
 */
async function serverSpans(tracerProvider: NodeTracerProvider, meterProvider: MeterProvider | undefined, stops: Array<() => Promise<void>>): Promise<void> {
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  // The query may carry ?access_token=… (RFC 6750 §2.3): the span holds it as REDACTED from the start.
  const instrumentation = new HttpInstrumentation({ startIncomingSpanHook: (request: IncomingMessage) => (request.url?.includes('?') ? { 'url.query': REDACTED } : {}) });
  const unregister = registerInstrumentations({ instrumentations: [instrumentation], tracerProvider, ...(meterProvider ? { meterProvider } : {}) });
  createRequire(import.meta.url)('node:http');
  stops.push(async () => unregister());
}
