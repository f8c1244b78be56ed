/**
 * The seam between the demo's start-up (server.ts) and its web framework (`DEMO_FRAMEWORK`): each framework module
 * attaches the same API — tsoa's routes generated for that framework, the same controllers, errors, docs and RFC 9728
 * route — to the Node HTTP server. Loaded on demand, so a framework that is not used is not loaded.
 */
import type { Framework } from './config.js';
import type { AttachApp } from './attach.js';

/** The frameworks wired in (tests run the demo suites on each). */
export const WIRED_FRAMEWORKS: readonly Framework[] = ['express', 'koa', 'hapi'];

export type { AttachApp, AttachedApi, DemoAppOptions } from './attach.js';

/** The demo app for a framework. */
export async function demoApp(framework: Framework): Promise<AttachApp> {
  switch (framework) {
    case 'express':
      return (await import('./app.js')).attachExpressApp;
    case 'koa':
      return (await import('./koa-app.js')).attachKoaApp;
    case 'hapi':
      return (await import('./hapi-app.js')).attachHapiApp;
  }
}
