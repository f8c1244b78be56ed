/**
 * tsoa's authentication module (`routes.authenticationModule` in tsoa.json).
 * The Auth0Api installed on the app with `auth0.install(app)` does the work; see app.ts.
 */
import { createExpressAuthentication } from '../tsoa/index.js';

export const expressAuthentication = createExpressAuthentication();
