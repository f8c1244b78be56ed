/**
 * Delegation helpers (RFC 8693 §4.1 `act`): the current actor and the chain, current first; malformed shapes
 * (non-objects, arrays, missing or non-string `sub`, non-string `iss`) stop the chain; nesting is bounded, cycles
 * included; copies never carry the nested `act` nor touch Object.prototype.
 */
import { describe, expect, it } from 'vitest';
import { getCurrentActor, getDelegationChain, MAX_DELEGATION_DEPTH } from '../../../src/core/token/delegation.js';
import { getCurrentActor as fromPackage } from '../../../src/index.js';

/** The example of RFC 8693 §4.1: admin acting for user@example.com, through a previous actor. */
const RFC_EXAMPLE = {
  aud: 'https://consumer.example.com',
  iss: 'https://issuer.example.com',
  exp: 1443904177,
  nbf: 1443904077,
  sub: 'user@example.com',
  act: { sub: 'https://service16.example.com', act: { sub: 'https://service77.example.com' } },
};

/** `depth` nested actors: agent-1 (current) … agent-<depth> (original). */
function nested(depth: number): Record<string, unknown> {
  let act: Record<string, unknown> | undefined;
  for (let i = depth; i >= 1; i--) act = { sub: `agent-${i}`, ...(act ? { act } : {}) };
  return { sub: 'user', ...(act ? { act } : {}) };
}

describe('getCurrentActor', () => {
  it('is the outermost act, without its nested act', () => {
    expect(getCurrentActor(RFC_EXAMPLE)).toEqual({ sub: 'https://service16.example.com' });
    expect(fromPackage).toBe(getCurrentActor);
  });

  it('keeps iss and the other members of the actor', () => {
    expect(getCurrentActor({ sub: 'u', act: { sub: 'agent', iss: 'https://idp.example.com', client_id: 'c1' } })).toEqual({ sub: 'agent', iss: 'https://idp.example.com', client_id: 'c1' });
  });

  it.each<[string, unknown]>([
    ['no act claim', { sub: 'u' }],
    ['act null', { sub: 'u', act: null }],
    ['act a string', { sub: 'u', act: 'agent' }],
    ['act an array', { sub: 'u', act: [{ sub: 'agent' }] }],
    ['act without sub', { sub: 'u', act: { iss: 'https://idp.example.com' } }],
    ['act with an empty sub', { sub: 'u', act: { sub: '' } }],
    ['act with a numeric sub', { sub: 'u', act: { sub: 42 } }],
    ['act with an object iss', { sub: 'u', act: { sub: 'agent', iss: { url: 'x' } } }],
  ])('undefined for %s', (_what, claims) => {
    expect(getCurrentActor(claims as object)).toBeUndefined();
    expect(getDelegationChain(claims as object)).toEqual([]);
  });

  it('undefined for no claims at all', () => {
    expect(getCurrentActor(undefined)).toBeUndefined();
    expect(getCurrentActor(null)).toBeUndefined();
    expect(getDelegationChain(undefined)).toEqual([]);
  });

  it('reads only an own act: an inherited one does not count', () => {
    const claims = Object.create({ act: { sub: 'inherited' } }) as object;
    expect(getCurrentActor(claims)).toBeUndefined();
  });
});

describe('getDelegationChain', () => {
  it('lists the actors, current first and original last', () => {
    expect(getDelegationChain(RFC_EXAMPLE)).toEqual([{ sub: 'https://service16.example.com' }, { sub: 'https://service77.example.com' }]);
    expect(getDelegationChain(nested(3)).map((a) => a.sub)).toEqual(['agent-1', 'agent-2', 'agent-3']);
  });

  it('stops at the first malformed entry', () => {
    const claims = { sub: 'u', act: { sub: 'a1', act: { sub: 'a2', act: { iss: 'no-sub', act: { sub: 'a4' } } } } };
    expect(getDelegationChain(claims).map((a) => a.sub)).toEqual(['a1', 'a2']);
    expect(getDelegationChain({ sub: 'u', act: { sub: 'a1', act: ['a2'] } }).map((a) => a.sub)).toEqual(['a1']);
    expect(getDelegationChain({ sub: 'u', act: { sub: 'a1', act: null } }).map((a) => a.sub)).toEqual(['a1']);
  });

  it(`reads at most ${MAX_DELEGATION_DEPTH} actors, however deep the nesting`, () => {
    expect(getDelegationChain(nested(MAX_DELEGATION_DEPTH))).toHaveLength(MAX_DELEGATION_DEPTH);
    const deep = getDelegationChain(nested(10_000));
    expect(deep).toHaveLength(MAX_DELEGATION_DEPTH);
    expect(deep[0]!.sub).toBe('agent-1');
    expect(deep.at(-1)!.sub).toBe(`agent-${MAX_DELEGATION_DEPTH}`);
  });

  it('terminates on a cyclic object (claims built in code rather than parsed)', () => {
    const act: Record<string, unknown> = { sub: 'loop' };
    act.act = act;
    const chain = getDelegationChain({ sub: 'u', act });
    expect(chain).toHaveLength(MAX_DELEGATION_DEPTH);
    expect(chain.every((a) => a.sub === 'loop' && !('act' in a))).toBe(true);
  });

  it('returns copies: changing them leaves the claims alone, and none carries a nested act', () => {
    const claims = structuredClone(RFC_EXAMPLE);
    const [first] = getDelegationChain(claims);
    first!.sub = 'changed';
    expect(claims.act.sub).toBe('https://service16.example.com');
    expect(getDelegationChain(claims).every((a) => !('act' in a))).toBe(true);
  });

  it('a "__proto__" member of a parsed actor stays a plain member (no prototype change)', () => {
    const claims = JSON.parse('{"sub":"u","act":{"sub":"a","__proto__":{"polluted":true}}}') as object;
    const actor = getCurrentActor(claims)!;
    expect(Object.getPrototypeOf(actor)).toBe(Object.prototype);
    expect((actor as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
