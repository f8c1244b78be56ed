/**
 * The `request_rejected` event of a refusal (src/core/observability/events.ts `rejectionEvent`): code, reason, status
 * and scheme; the underlying cause only for reason `internal` (a bug, for the application's logs). Causes of other
 * refusals, which may quote what the client sent (a token, a proof), never reach the event.
 */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/core/errors.js';
import { rejectionEvent } from '../../../src/core/observability/events.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJl';

describe('rejectionEvent', () => {
  it('carries code, reason, status and scheme, and nothing else, for an ordinary refusal', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'Token expired', { scheme: 'dpop' });
    const event = rejectionEvent(error);
    expect(event).toEqual({ type: 'request_rejected', code: 'invalid_token', reason: 'token.expired', status: 401, scheme: 'dpop' });
    expect('cause' in event).toBe(false);
  });

  it.each([
    ['insufficient_scope', 'scope.insufficient', 403],
    ['invalid_request', 'credentials.in_two_places', 400],
    ['temporarily_unavailable', 'provider.unavailable', 503],
    ['unauthorized', 'credentials.missing', 401],
  ] as const)('%s / %s → status %i', (code, reason, status) => {
    expect(rejectionEvent(new AuthError(code, reason, 'x'))).toEqual({ type: 'request_rejected', code, reason, status, scheme: undefined });
  });

  it('drops the cause of a non-internal refusal, so a token quoted in it never reaches the logs', () => {
    const cause = new Error(`signature verification failed for ${TOKEN}`);
    const error = new AuthError('invalid_token', 'token.signature', 'Invalid token', { scheme: 'bearer', cause });
    const event = rejectionEvent(error);
    expect(event.cause).toBeUndefined();
    expect('cause' in event).toBe(false);
    expect(JSON.stringify(event)).not.toContain(TOKEN.slice(0, 20));
  });

  it('never carries the description or message', () => {
    const error = new AuthError('invalid_dpop_proof', 'proof.htu', `htu mismatch ${TOKEN}`, { scheme: 'dpop' });
    const event = rejectionEvent(error);
    expect(Object.keys(event).sort()).toEqual(['code', 'reason', 'scheme', 'status', 'type']);
    expect(JSON.stringify(event)).not.toContain('htu mismatch');
  });

  it("keeps the cause of an internal failure (a bug) for the application's logs", () => {
    const cause = new TypeError('cannot read properties of undefined');
    const event = rejectionEvent(new AuthError('temporarily_unavailable', 'internal', 'Internal error', { cause }));
    expect(event).toEqual({ type: 'request_rejected', code: 'temporarily_unavailable', reason: 'internal', status: 503, scheme: undefined, cause });
    expect(event.cause).toBe(cause);
  });

  it('returns a fresh object each time', () => {
    const error = new AuthError('invalid_token', 'token.expired', 'Token expired');
    const a = rejectionEvent(error);
    const b = rejectionEvent(error);
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });
});
