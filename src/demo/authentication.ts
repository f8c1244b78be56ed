/**
 * tsoa's authentication module (`routes.authenticationModule` in tsoa.json), for every framework the demo runs on:
 * the API object installed on the app (`auth0.install(app)`) does the work; see app.ts and koa-app.ts.
 */
import { createExpressAuthentication, createKoaAuthentication } from '../tsoa/index.js';

export const expressAuthentication = createExpressAuthentication();
export const koaAuthentication = createKoaAuthentication();
