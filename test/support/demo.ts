/**
 * Starts the real demo server (src/demo/server.ts) on a free port for HTTP tests, configured through the same
 * environment variables a user sets.
 */
import { startDemo, type RunningDemo, type StartOptions } from '../../src/demo/server.js';

export const AUDIENCE = 'https://api.example.com';

export async function startTestDemo(env: Record<string, string | undefined>, options: Omit<StartOptions, 'env' | 'quiet'> = {}): Promise<RunningDemo> {
  return startDemo({
    env: { PORT: '0', HOST: '127.0.0.1', AUTH0_AUDIENCE: AUDIENCE, NODE_ENV: 'test', ...env },
    quiet: true,
    ...options,
  });
}

export { parseChallenges } from './challenges.js';
