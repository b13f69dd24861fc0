import type { FastifyRequest } from 'fastify';
import { quoteText } from 'p4p-sdk';
import type { Network, Store } from '../store/store.js';
import { isSystemUser, parseToken, verifyToken } from '../tokens/verify-token.js';
import { ApiError } from './api-errors.js';

/** Where a token may come from: the bearer header, then the body, then the query string. */
function tokenFrom(request: FastifyRequest, parameter: 'lftoken' | 'actor_token'): string | null {
  // Other schemes (e.g. Basic added by a proxy) are not ours: look for the token elsewhere.
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (bearer !== null) return bearer[1]!;
  for (const source of [request.body, request.query]) {
    if (source === null || typeof source !== 'object') continue;
    const value = (source as Record<string, unknown>)[parameter];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ApiError('token_invalid', `${parameter} must be given once, as a string`);
    return value;
  }
  return null;
}

/**
 * The network of the request's system token (taken as {@link tokenFrom}
 * finds it), or an ApiError that says what is wrong with the token. Notes
 * the network for the request's log line, and whether the token was signed
 * with the network's previous key (a rotation is done once none is).
 */
export async function authenticateSystem(
  request: FastifyRequest,
  store: Store,
  now: number,
  parameter: 'lftoken' | 'actor_token' = 'lftoken',
): Promise<Network> {
  const token = tokenFrom(request, parameter);
  if (token === null || token === '') {
    throw new ApiError('token_missing', `no token: send ${parameter} in the query string or body, or Authorization: Bearer <token>`);
  }
  const parsed = parseToken(token);
  if (!parsed.ok) throw new ApiError(parsed.code, parsed.message);
  const network = await store.getNetwork(parsed.claims.domain);
  if (network === null) {
    throw new ApiError('unknown_network', `no network named ${quoteText(parsed.claims.domain, 100)} here; check the token's domain`);
  }
  const verified = verifyToken(parsed, { keys: network.keys, networkName: network.name, nowMs: now });
  if (!verified.ok) throw new ApiError(verified.code, verified.message);
  if (!isSystemUser(verified.claims, network.owners)) {
    throw new ApiError('not_system_token', `user ${JSON.stringify(verified.claims.user_id)} is not the system user or an owner of ${network.name}; use a system token`);
  }
  request.audit.network = network.name;
  if (verified.keyIndex > 0) request.audit.previousKey = true;
  return network;
}
