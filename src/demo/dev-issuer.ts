/**
 * The development issuer moved to src/dev (the package's `auth0-tsoa-api/dev`). This re-export keeps older imports
 * (test/browser) working until they import ../dev/index.js.
 */
export * from '../dev/issuer.js';
