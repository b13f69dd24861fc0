/**
 * The pull handler for Fastify: `app.get('/p4p/profile', createFastifyPullHandler({ … }))`.
 * The Node handler answers on the raw response, so Fastify is told to stay
 * out of the way (`reply.hijack()`). Typed structurally: no dependency on Fastify.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createPullHandler, type PullHandlerOptions } from './create-pull-handler.js';

/** The parts of a Fastify request the adapter uses. */
export interface FastifyLikeRequest {
  raw: IncomingMessage;
}

/** The parts of a Fastify reply the adapter uses. */
export interface FastifyLikeReply {
  raw: ServerResponse;
  hijack(): unknown;
}

/**
 * Same options as {@link createPullHandler}, except that `userId` and
 * `getProfile` receive the Fastify request (e.g. `(request) => request.params.id`).
 */
export function createFastifyPullHandler<Req extends FastifyLikeRequest>(
  options: Omit<PullHandlerOptions, 'userId' | 'getProfile' | 'onError'> & {
    getProfile: (userId: string, request: Req) => ReturnType<PullHandlerOptions['getProfile']>;
    userId?: (request: Req) => unknown;
    onError?: (error: unknown, request: Req) => void;
  },
): (request: Req, reply: FastifyLikeReply) => Promise<void> {
  const requests = new WeakMap<IncomingMessage, Req>();
  const fastifyRequestOf = (raw: IncomingMessage): Req => requests.get(raw)!;
  const { userId, getProfile, onError, ...rest } = options;
  const handler = createPullHandler({
    ...rest,
    getProfile: (id, raw) => getProfile(id, fastifyRequestOf(raw)),
    // Only functions are wrapped: anything else goes through as it is, for createPullHandler to refuse.
    ...(typeof userId !== 'function' ? { userId } : { userId: (raw: IncomingMessage) => userId(fastifyRequestOf(raw)) }),
    ...(typeof onError !== 'function' ? { onError } : { onError: (error: unknown, raw: IncomingMessage) => onError(error, fastifyRequestOf(raw)) }),
  });
  return async (request, reply) => {
    reply.hijack();
    requests.set(request.raw, request);
    await handler(request.raw, reply.raw);
  };
}
