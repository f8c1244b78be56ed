/**
 * The no-SDK fast path (src/core/observability/telemetry.ts), in a process where nothing was ever registered with
 * `@opentelemetry/api` (this file runs in its own worker: nothing else registers here): each authentication gets the
 * one shared no-op, and an SDK registered afterwards — by the real SDK, as an application does at start-up — is
 * reported from the very next request, by a validator created before it.
 */
import { afterAll, expect, it } from 'vitest';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { createValidator } from '../../../src/core/index.js';
import { INSTRUMENTS } from '../../../src/core/observability/telemetry.js';

const providers: MeterProvider[] = [];
afterAll(async () => {
  for (const provider of providers) await provider.shutdown();
  metrics.disable();
});

it('shares one no-op while nothing is registered, and reports from the first request after an SDK registers', async () => {
  expect((globalThis as Record<symbol, unknown>)[Symbol.for('opentelemetry.js.api.1')]).toBeUndefined(); // pristine
  const validator = createValidator({ domain: 'tenant.example.com', audience: 'https://api.example.com' });
  const request = { method: 'GET', url: 'https://api.example.com/x', headers: {} };
  const noop = validator.telemetry.startAuthentication();
  for (let i = 0; i < 600; i++) {
    expect(validator.telemetry.startAuthentication()).toBe(noop); // past the periodic check by the API's getters too
  }
  expect(noop.traced).toBe(false);
  await expect(validator.verifyRequest(request)).rejects.toMatchObject({ code: 'unauthorized' });

  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  expect(metrics.setGlobalMeterProvider(provider)).toBe(true);

  expect(validator.telemetry.startAuthentication()).not.toBe(noop);
  await expect(validator.verifyRequest(request)).rejects.toMatchObject({ code: 'unauthorized' });
  await reader.forceFlush();
  const points = exporter
    .getMetrics()
    .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
    .filter((m) => m.descriptor.name === INSTRUMENTS.authenticationAttempts)
    .flatMap((m) => m.dataPoints as Array<DataPoint<number>>);
  // Only the request after registration: the one before it was not reported anywhere.
  expect(points.map((p) => [p.attributes, p.value])).toEqual([[{ 'auth.scheme': 'none', 'auth.outcome': 'failure', 'error.type': 'unauthorized' }, 1]]);
});
