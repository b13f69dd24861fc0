import formBody from '@fastify/formbody';
import { contentCoding } from 'p4p-sdk';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from '../log/redact-url.js';
import { StoreUnavailableError } from '../store/store.js';
import { API_ERRORS, ApiError, type ApiErrorCode } from './api-errors.js';
import type { AppContext } from './app-context.js';
import { answerClientError } from './client-errors.js';
import { parseJsonBody } from './json-body.js';
import { pingRoutes } from './routes/ping-routes.js';
import { settingsRoutes } from './routes/settings-routes.js';
import { userRoutes } from './routes/user-routes.js';

/** Fastify's own client-error codes, mapped onto ours. */
const FRAMEWORK_ERRORS: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_body',
};

/** Largest body any route accepts, in bytes; routes set lower limits of their own. */
const MAX_BODY_BYTES = 1024 * 1024;

function toApiError(error: FastifyError, request: FastifyRequest): ApiError | null {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreUnavailableError) return new ApiError('store_unavailable', API_ERRORS.store_unavailable.message, { 'retry-after': '1' });
  const code = FRAMEWORK_ERRORS[error.code];
  if (code === 'body_too_large') {
    return new ApiError(code, `the request body is over this route's limit of ${request.routeOptions.bodyLimit} bytes: send less`);
  }
  if (code !== undefined) return new ApiError(code, code === 'invalid_body' ? `malformed body: ${error.message}` : API_ERRORS[code].message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return new ApiError('invalid_body', error.message);
  return null;
}

/**
 * A URL the router cannot even match (malformed escape, over-long parameter):
 * the only parameters are user ids. No route hook runs, so it logs its own line.
 */
function answerRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const code: ApiErrorCode = request.url.includes('/user/') ? 'invalid_user_id' : 'not_found';
  const problem = error.code === 'FST_ERR_BAD_URL' ? 'the URL has a malformed percent-escape' : 'a path parameter is too long';
  const status = API_ERRORS[code].status;
  request.log.info({ event: 'request', req_id: request.id, method: request.method, url: redactUrl(request.url), status }, 'request');
  return reply.code(status).send({ code, message: `${problem}: ${API_ERRORS[code].message}` });
}

/**
 * Only form-encoded and JSON bodies carry tokens: a body of another type gets
 * 415 rather than being ignored. An empty body is no body whatever its type,
 * so a client that sends the token in the query or a header with, say,
 * `Content-Type: text/plain` or `application/json` and nothing after it is
 * answered as if it had sent no body at all.
 */
function acceptEmptyBodies(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // parseJsonBody throws its ApiError; Fastify answers what a parser throws.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body === '' ? undefined : parseJsonBody(body as string));
  });
  // Decided from the headers, so that a body refused anyway is never read; an unknown route stays a 404.
  app.addContentTypeParser('*', (request, _payload, done) => {
    if (!hasBody(request) || request.is404) done(null, undefined);
    else done(new ApiError('unsupported_media_type'), undefined);
  });
}

function hasBody(request: FastifyRequest): boolean {
  const { 'content-length': length, 'transfer-encoding': chunked } = request.headers;
  return chunked !== undefined || (length !== undefined && length !== '0');
}

/** A compressed body would be read as if it were plain (RFC 9110 section 8.4: 415, naming the codings accepted). */
function refuseCodedBodies(app: FastifyInstance): void {
  // A callback hook, not an async one: every ping passes through it.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const coding = contentCoding(request.headers['content-encoding']);
    if (coding === null || !hasBody(request) || request.is404) return done(null, payload);
    const message = `the body has Content-Encoding: ${coding}; p4p reads bodies without compression only: send it uncompressed`;
    return done(new ApiError('unsupported_media_type', message, { 'accept-encoding': 'identity' }));
  });
}

/**
 * The HTTP API, without a listening socket: `serve` listens on it, tests call
 * it over loopback. One log line per request, tokens redacted.
 */
export async function buildApp(context: AppContext, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // No child logger per request: with the redaction paths, pino's child costs a few % of a ping.
    // The lines p4p writes for a request name it with req_id instead.
    childLoggerFactory: (logger) => logger,
    // Our own onResponse line replaces Fastify's, so that URLs are redacted.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    // Above the longest user id even when fully percent-encoded, so checkUserId answers instead of the router.
    routerOptions: { maxParamLength: 1024 },
    // Errors the router raises before any route runs get the same { code, message } answers.
    frameworkErrors: (error, request, reply) => void answerRouterError(error as FastifyError, request as FastifyRequest, reply as FastifyReply),
    // And so do requests Node's HTTP parser refuses before the router sees them.
    clientErrorHandler: answerClientError,
  });
  await app.register(formBody, { bodyLimit: MAX_BODY_BYTES });
  acceptEmptyBodies(app);
  refuseCodedBodies(app);

  app.decorateRequest('audit', null as never);
  // A callback hook, not an async one: every ping passes through it.
  app.addHook('onRequest', (request, _reply, done) => {
    request.audit = {};
    done();
  });
  app.addHook('onResponse', async (request, reply) => {
    // Building the line (redacting the URL) is most of its cost: skip it when the level drops it.
    if (!(request.log as Logger).isLevelEnabled('info')) return;
    request.log.info(
      {
        event: 'request',
        req_id: request.id,
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
        network: request.audit.network,
        user_id: request.audit.userId,
        users: request.audit.users,
        previous_key: request.audit.previousKey,
      },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = toApiError(error, request);
    if (known?.code === 'store_unavailable') request.log.warn({ err: error, req_id: request.id }, 'database unavailable');
    if (known === null) {
      request.log.error({ err: error, req_id: request.id, url: redactUrl(request.url) }, 'unexpected error');
      return reply.code(500).send({ code: 'internal_error', message: API_ERRORS.internal_error.message });
    }
    return reply.code(known.status).headers(known.headers).send({ code: known.code, message: known.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'not_found', message: `no route ${request.method} ${redactUrl(request.url).split('?')[0]}` }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  pingRoutes(app, context);
  settingsRoutes(app, context);
  userRoutes(app, context);
  await app.ready();
  return app;
}
