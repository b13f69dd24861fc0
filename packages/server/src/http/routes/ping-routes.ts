import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Network } from '../../store/store.js';
import { USER_ID_PATTERN, USER_ID_RULE, userIdProblem } from '../../tokens/token-claims.js';
import { ApiError } from '../api-errors.js';
import type { AppContext } from '../app-context.js';
import { authenticateSystem } from '../authenticate.js';
import { checkBodyIsObject, parseBody } from '../parse-body.js';

/** Most user ids in one bulk ping. */
export const MAX_BULK_USER_IDS = 1000;

const bulkPingBody = z.strictObject({
  user_ids: z
    .array(z.string().regex(USER_ID_PATTERN, USER_ID_RULE), { error: 'send the user ids as an array, e.g. {"user_ids": ["a", "b"]}' })
    .min(1, 'user_ids must not be empty')
    .max(MAX_BULK_USER_IDS, `at most ${MAX_BULK_USER_IDS} user ids per bulk ping; split the list`),
  lftoken: z.string().optional(),
});

export function checkUserId(userId: string): string {
  const problem = userIdProblem(userId);
  if (problem !== null) throw new ApiError('invalid_user_id', problem);
  return userId;
}

/**
 * A ping's body, when it has one, is a form or a JSON object. Fields other
 * than lftoken are ignored, not refused: the official libraries send lftoken
 * alone, and a client that adds a field of its own must not lose its pings
 * (docs/design.md).
 */
function checkPingBody(body: unknown): void {
  checkBodyIsObject(body, '{"lftoken": "…"}');
}

/**
 * A form lists the ids as repeated `user_ids=` fields, and a form with only
 * one of them parses to a plain string: that is a list of one.
 */
function formIdsAsList(request: FastifyRequest): unknown {
  const body = request.body as { user_ids?: unknown } | undefined;
  const fromForm = request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true;
  return fromForm && typeof body?.user_ids === 'string' ? { ...body, user_ids: [body.user_ids] } : body;
}

/** Spec section 3: the ping (both paths) and the bulk ping. 200 only once the pings are durable. */
export function pingRoutes(app: FastifyInstance, context: AppContext): void {
  const { store, now, rateLimiter } = context;

  /** The network of the request's system token, if it can take pings. */
  async function pingingNetwork(request: FastifyRequest): Promise<Network> {
    const network = await authenticateSystem(request, store, now());
    if (network.pullUrlTemplate === null) {
      throw new ApiError('pull_url_not_registered', `network ${network.name} has no pull URL yet; register one with POST /?actor_token=…&pull_profile_url=…`);
    }
    return network;
  }

  /** Rate-limits, records durably, wakes the worker. */
  async function acceptPings(network: Network, userIds: string[]): Promise<void> {
    const allowed = rateLimiter.take(network.id, userIds.length, now());
    if (!allowed.ok) {
      throw new ApiError('rate_limited', `network ${network.name} is over its ping rate limit; retry after ${allowed.retryAfterSeconds} s`, {
        'retry-after': String(allowed.retryAfterSeconds),
      });
    }
    await store.recordPings(network.id, userIds, now());
    context.onPings();
  }

  const pingOptions = { bodyLimit: 16 * 1024 };
  async function ping(request: FastifyRequest<{ Params: { user_id: string } }>) {
    const userId = checkUserId(request.params.user_id);
    request.audit.userId = userId;
    checkPingBody(request.body);
    const network = await pingingNetwork(request);
    await acceptPings(network, [userId]);
    return { status: 'ok', network: network.name, user_id: userId };
  }
  app.post('/api/v3.0/user/:user_id/refresh', pingOptions, ping);
  app.post('/api/v3_0/user/:user_id/refresh', pingOptions, ping);

  app.post('/api/v3.0/users/refresh', { bodyLimit: 512 * 1024 }, async (request) => {
    const network = await pingingNetwork(request);
    const userIds = [...new Set(parseBody(bulkPingBody, formIdsAsList(request)).user_ids)];
    request.audit.users = userIds.length;
    await acceptPings(network, userIds);
    return { status: 'ok', network: network.name, user_ids: userIds.length };
  });
}
