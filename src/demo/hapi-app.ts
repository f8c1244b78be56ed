/**
 * The demo on hapi: not wired in yet (the hapi adapter, src/hapi/, comes separately). Until then
 * `DEMO_FRAMEWORK=hapi` stops the start-up with one line naming the setting.
 */
import { ConfigurationError } from '../core/errors.js';
import type { AttachApp } from './attach.js';

export const attachHapiApp: AttachApp = async () => {
  throw new ConfigurationError('DEMO_FRAMEWORK', 'hapi is not available in this build yet; use express or koa');
};
