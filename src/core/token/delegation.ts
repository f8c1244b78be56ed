/**
 * Delegation (RFC 8693 §4.1): a token obtained by token exchange on behalf of a subject names the party acting for
 * it in the `act` claim; an `act` may nest the previous actor, and so on. Only the outermost `act` is the current
 * actor; nested ones are informational (§4.1: "not … considered in access control decisions").
 *
 * The claim comes from a verified token, but its shape is whatever the issuer put there: these helpers accept only
 * objects with a non-empty string `sub` (and a string `iss`, when present), stop at the first malformed entry and
 * never walk deeper than `MAX_DELEGATION_DEPTH` (16).
 */

/** One actor of a delegation chain: its `sub`, its `iss` when given, and any other claims the issuer added. */
export interface Actor {
  /** Who acts (RFC 8693 §4.1: required). */
  sub: string;
  /** The issuer that names that subject, when given. */
  iss?: string;
  /** Other claims of the actor (without its nested `act`). */
  [claim: string]: unknown;
}

/** How many nested `act` claims are read at most; deeper ones are ignored. */
export const MAX_DELEGATION_DEPTH = 16;

/** The actor described by an `act` value (without its nested `act`), or undefined when it is malformed. */
function toActor(value: unknown): Actor | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { act: _nested, ...claims } = value as Record<string, unknown>; // spread copies own data properties only
  if (typeof claims.sub !== 'string' || claims.sub === '') return undefined;
  if (claims.iss !== undefined && typeof claims.iss !== 'string') return undefined;
  return claims as Actor;
}

function nestedAct(value: unknown): unknown {
  return value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'act') ? (value as { act?: unknown }).act : undefined;
}

/**
 * The party currently acting on behalf of the token's subject: the `act` claim (RFC 8693 §4.1), or undefined when
 * the token is not delegated or its `act` is malformed.
 *
 * ```ts
 * const actor = getCurrentActor(getAuth(req).claims); // { sub: 'agent-42', iss: '…' } | undefined
 * ```
 */
export function getCurrentActor(claims: object | null | undefined): Actor | undefined {
  return toActor(nestedAct(claims));
}

/**
 * Every actor of a delegated token, the current one first and the original one last (`act`, `act.act`, …). Empty
 * when the token is not delegated. Stops at the first malformed entry and after `MAX_DELEGATION_DEPTH` (16) actors.
 */
export function getDelegationChain(claims: object | null | undefined): Actor[] {
  const chain: Actor[] = [];
  let value = nestedAct(claims);
  while (value !== undefined && chain.length < MAX_DELEGATION_DEPTH) {
    const actor = toActor(value);
    if (!actor) break;
    chain.push(actor);
    value = nestedAct(value);
  }
  return chain;
}
