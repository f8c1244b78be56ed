/**
 * `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1).
 *
 * Which challenges appear depends on the DPoP mode; error attributes go only on the scheme the client used.
 */
import { sanitizeDescription, type AuthErrorCode, type AuthScheme, type StepUpChallenge } from '../errors.js';
import type { DpopMode } from '../options.js';

/** What a challenge is built from. */
export interface ChallengeInput {
  mode: DpopMode;
  /** Proof algorithms advertised in `DPoP algs="…"`. */
  dpopAlgorithms: readonly string[];
  /** The error, or undefined for a plain challenge (no credentials). */
  error?: { code: AuthErrorCode; description: string; scope?: readonly string[]; stepUp?: StepUpChallenge | undefined } | undefined;
  /** The scheme the client used; errors go on it. Defaults to Bearer when Bearer is accepted. */
  scheme?: AuthScheme | undefined;
  /** Absolute URL of the RFC 9728 metadata document; added to every challenge when set. */
  resourceMetadata?: string | undefined;
  realm?: string | undefined;
}

/**
 * A quoted-string (RFC 9110 §5.6.4) whose content never needs escaping: only RFC 6750 §3 characters are kept.
 * Only `error_description` is shortened; cutting a scope list or a URL would change its meaning.
 */
function quoted(name: string, value: string): string {
  return `"${name === 'error_description' ? sanitizeDescription(value) : safeChars(value)}"`;
}

function safeChars(value: string): string {
  return value
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '');
}

function params(entries: Array<[string, string | undefined]>): string {
  return entries
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${quoted(k, v)}`)
    .join(', ');
}

/** RFC 9470 §3: `acr_values` (space-separated) and `max_age` (seconds) of a step-up challenge. */
function stepUpParams(stepUp: StepUpChallenge | undefined): Array<[string, string | undefined]> {
  if (stepUp === undefined) return [];
  return [
    ['acr_values', stepUp.acrValues && stepUp.acrValues.length > 0 ? stepUp.acrValues.join(' ') : undefined],
    ['max_age', stepUp.maxAge === undefined ? undefined : String(stepUp.maxAge)],
  ];
}

/** Builds the `WWW-Authenticate` header value: one or two challenges separated by ", ". */
export function buildChallenge(input: ChallengeInput): string {
  const { mode, error } = input;
  const errorScheme: AuthScheme = input.scheme ?? (mode === 'required' ? 'dpop' : 'bearer');
  const errorParams = (on: AuthScheme): Array<[string, string | undefined]> =>
    error && error.code !== 'unauthorized' && errorScheme === on
      ? [['error', error.code], ['error_description', error.description || undefined], ['scope', error.scope && error.scope.length > 0 ? error.scope.join(' ') : undefined], ...stepUpParams(error.stepUp)]
      : [];
  const common: Array<[string, string | undefined]> = [['resource_metadata', input.resourceMetadata]];
  const realm: Array<[string, string | undefined]> = [['realm', input.realm]];

  const challenges: string[] = [];
  if (mode !== 'required') {
    const p = params([...realm, ...errorParams('bearer'), ...common]);
    challenges.push(p ? `Bearer ${p}` : 'Bearer');
  }
  if (mode !== 'disabled') {
    challenges.push(`DPoP ${params([...realm, ...errorParams('dpop'), ['algs', input.dpopAlgorithms.join(' ')], ...common])}`);
  }
  return challenges.join(', ');
}
