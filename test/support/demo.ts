/**
 * Starts the real demo server (src/demo/server.ts) on a free port for HTTP tests, configured through the same
 * environment variables a user sets — on each framework the demo runs on (`DEMO_FRAMEWORK`).
 */
import { beforeAll, describe } from 'vitest';
import { startDemo, type RunningDemo, type StartOptions } from '../../src/demo/server.js';
import { WIRED_FRAMEWORKS } from '../../src/demo/frameworks.js';
import type { Framework } from '../../src/demo/config.js';

export const AUDIENCE = 'https://api.example.com';

/** Every framework the demo is wired for: the demo suites run once per framework. */
export const FRAMEWORKS: readonly Framework[] = WIRED_FRAMEWORKS;

/** The framework of the suite being run (set by {@link describeFrameworks}); express outside one. */
let current: Framework = 'express';

/**
 * Runs `body` (a suite with its own beforeAll/afterAll, usually starting one demo) once per framework, as
 * `on express`, `on koa`, …; {@link startTestDemo} starts the demo on that framework.
 */
export function describeFrameworks(body: (framework: Framework) => void): void {
  describe.each(FRAMEWORKS)('on %s', (framework) => {
    beforeAll(() => {
      current = framework;
    });
    body(framework);
  });
}

export async function startTestDemo(env: Record<string, string | undefined>, options: Omit<StartOptions, 'env' | 'quiet'> = {}): Promise<RunningDemo> {
  return startDemo({
    env: { PORT: '0', HOST: '127.0.0.1', AUTH0_AUDIENCE: AUDIENCE, NODE_ENV: 'test', DEMO_FRAMEWORK: current, ...env },
    quiet: true,
    ...options,
  });
}

export { parseChallenges } from './challenges.js';
