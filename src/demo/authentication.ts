/**
 * tsoa's authentication module (`routes.authenticationModule` in tsoa.json), for every framework the demo runs on:
 * the API object installed on the app (`auth0.install(app)`, hapi: `auth0.plugin`) does the work; see app.ts,
 * koa-app.ts and hapi-app.ts.
 */
import { createExpressAuthentication, createHapiAuthentication, createKoaAuthentication } from '../tsoa/index.js';

export const expressAuthentication = createExpressAuthentication();
export const koaAuthentication = createKoaAuthentication();
export const hapiAuthentication = createHapiAuthentication();
