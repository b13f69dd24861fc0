import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Network, UserRecord } from '../../store/store.js';
import { ApiError } from '../api-errors.js';
import { isoTime, type AppContext } from '../app-context.js';
import { authenticateSystem } from '../authenticate.js';
import { parseBody } from '../parse-body.js';
import { checkUserId } from './ping-routes.js';

/** A whole number in plain digits, given once, within `min`–`max` (`0x10`, `1e3` and `+5` are not). */
function countParameter(min: number, max: number) {
  const rule = `give it once, as a whole number from ${min} to ${max} in digits`;
  return z
    .string({ error: rule })
    .regex(/^[0-9]{1,10}$/, rule)
    .transform(Number)
    .pipe(z.number().min(min, rule).max(max, rule));
}

const versionsQuery = z.object({
  limit: countParameter(1, 1000).default(100),
  before: countParameter(1, Number.MAX_SAFE_INTEGER).optional(),
  lftoken: z.string().optional(),
});

type UserRequest = FastifyRequest<{ Params: { user_id: string } }>;

/** The read API for operators (system token): a user's profile and sync state, attempts, versions. */
export function userRoutes(app: FastifyInstance, context: AppContext): void {
  const { store, now } = context;

  async function findUser(request: UserRequest): Promise<{ network: Network; user: UserRecord }> {
    const userId = checkUserId(request.params.user_id);
    request.audit.userId = userId;
    const network = await authenticateSystem(request, store, now());
    const user = await store.getUser(network.id, userId);
    if (user === null) throw new ApiError('user_not_found', `p4p has never been pinged for user ${userId} of ${network.name}`);
    return { network, user };
  }

  app.get('/api/v3.0/user/:user_id/profile', async (request: UserRequest) => {
    const { user } = await findUser(request);
    const { sync } = user;
    return {
      profile: user.profile,
      version: user.version,
      updated_at: isoTime(user.updatedAt),
      sync: {
        state: sync.state,
        last_ping_at: isoTime(sync.lastPingAt),
        last_pull_at: isoTime(sync.lastPullAt),
        last_outcome: sync.lastOutcome,
        last_message: sync.lastMessage,
        attempts: sync.attempts,
        next_attempt_at: sync.state === 'waiting' || sync.state === 'retrying' ? isoTime(sync.dueAt) : null,
      },
    };
  });

  app.get('/api/v3.0/user/:user_id/attempts', async (request: UserRequest) => {
    const { network, user } = await findUser(request);
    const attempts = await store.listAttempts(network.id, user.userId);
    return {
      attempts: attempts.map((attempt) => ({
        at: isoTime(attempt.at),
        outcome: attempt.outcome,
        http_status: attempt.httpStatus,
        duration_ms: attempt.durationMs,
        message: attempt.message,
        warnings: attempt.warnings,
        response_excerpt: attempt.responseExcerpt,
      })),
    };
  });

  app.get('/api/v3.0/user/:user_id/versions', async (request: UserRequest) => {
    const { network, user } = await findUser(request);
    const query = parseBody(versionsQuery, request.query, 'query');
    const versions = await store.listVersions(network.id, user.userId, { limit: query.limit, beforeVersion: query.before });
    return {
      versions: versions.map((version) => ({
        version: version.version,
        created_at: isoTime(version.createdAt),
        changed: version.changed,
        profile: version.profile,
      })),
    };
  });
}
