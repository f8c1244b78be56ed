// Registers a real OpenTelemetry SDK before the app loads, for the benchmark's "OTel SDK registered" cases
// (BENCH_PRELOAD=bench/lib/otel-sdk.mjs, or `node --import ./bench/lib/otel-sdk.mjs bench/auth-path.mjs`).
//
// What a production set-up pays for per request, minus the network: metrics aggregated in memory by a pull reader
// (the Prometheus exporter, its HTTP server not started: nothing scrapes during a run), and every span sampled,
// built and handed to a batch processor whose exporter drops the batch (export cost is the backend's, not ours).
// The context manager is the SDK's AsyncLocalStorage one (NodeTracerProvider.register()), as in a real app.
//
// BENCH_OTEL=metrics | traces | both (default both): which providers to register.
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const which = process.env.BENCH_OTEL ?? 'both';
if (!['metrics', 'traces', 'both'].includes(which)) throw new Error(`BENCH_OTEL: expected metrics, traces or both, got ${which}`);

if (which !== 'traces') {
  const reader = new PrometheusExporter({ preventServerStart: true });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
}

if (which !== 'metrics') {
  let exported = 0;
  const droppingExporter = {
    export(spans, done) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(droppingExporter)] });
  provider.register();
  process.on('exit', () => {
    if (process.env.BENCH_OTEL_VERBOSE) console.error(`otel-sdk: ${exported} spans exported`);
  });
}
