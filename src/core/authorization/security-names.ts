/**
 * The grammar of `@Security` names, shared by the runtime (tsoa's authentication functions) and the OpenAPI
 * post-processing, so both read a name the same way:
 *
 * - `bearer` / `dpop`: that one scheme (also the OpenAPI `http` schemes);
 * - the general name (`auth0` by default): whatever the DPoP mode accepts;
 * - a policy of the `policies` option: what the general name accepts, then the policy;
 * - any of these followed by `-optional`: anonymous callers are served too.
 */
import type { AuthScheme } from '../errors.js';
import { OPTIONAL_SUFFIX } from './policies.js';

export { OPTIONAL_SUFFIX };

/** The names that stand for one authentication scheme each. */
export const SCHEME_SECURITY_NAMES: Readonly<Record<string, readonly AuthScheme[]>> = Object.freeze({ bearer: ['bearer'], dpop: ['dpop'] });

/** True for `bearer` and `dpop`. */
export function isSchemeName(name: string): boolean {
  return Object.hasOwn(SCHEME_SECURITY_NAMES, name);
}

/**
 * A security name without its `-optional` suffix, and whether it had one. A name the document defines as a scheme of
 * its own (`definedSchemes`) is taken as it is.
 */
export function splitSecurityName(securityName: string, definedSchemes?: ReadonlySet<string>): { base: string; optional: boolean } {
  if (!securityName.endsWith(OPTIONAL_SUFFIX) || definedSchemes?.has(securityName)) return { base: securityName, optional: false };
  return { base: securityName.slice(0, -OPTIONAL_SUFFIX.length), optional: true };
}

/** What `@Security(name)` asks for at run time: the schemes, the policy and whether anonymous callers are served. */
export interface SecurityMeaning {
  schemes: readonly AuthScheme[] | undefined;
  policy: string | undefined;
  optional: boolean;
}

/**
 * The meaning of a security name, or the message of the setup error naming the fix (`prefix` names the function
 * that met it, e.g. `koaAuthentication`).
 */
export function interpretSecurityName(securityName: string, general: ReadonlySet<string>, hasPolicy: (name: string) => boolean, prefix: string): SecurityMeaning | string {
  const { base: name, optional } = splitSecurityName(securityName);
  const schemes = isSchemeName(name) ? SCHEME_SECURITY_NAMES[name] : undefined;
  const isPolicy = hasPolicy(name);
  if (isPolicy && general.has(name)) {
    return `${prefix}: "${name}" is both a general security name and a policy; rename the policy`;
  }
  if (!schemes && !isPolicy && !general.has(name)) {
    return `${prefix}: no handler for @Security('${securityName}'); use ${[...general].map((n) => `'${n}'`).join(', ')}, 'bearer', 'dpop' or a policy of createAuth0Api({ policies }), optionally followed by '${OPTIONAL_SUFFIX}'`;
  }
  return { schemes, policy: isPolicy ? name : undefined, optional };
}
