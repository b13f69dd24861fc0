import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { redactUrl } from './redact-url.js';

/**
 * Structured JSON logs, one object per line. Tokens and keys never reach a
 * line: URLs are passed through redactUrl where they are logged, these paths
 * are censored wherever they appear, and a message text that quotes a URL
 * (as some of Fastify's own warnings quote the request's) has its token
 * parameters redacted too.
 */
export function createLogger(level: Level | 'silent', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'p4p' },
      redact: {
        paths: ['lftoken', 'actor_token', 'key', 'keys', '*.lftoken', '*.actor_token', '*.key', '*.keys', 'headers.authorization', '*.headers.authorization'],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          // Only enabled levels get here, and only a text with a '=' can hold a token parameter:
          // the usual line ('request', 'pull') goes through as it is, without a copy of its arguments.
          const mayHoldToken = (arg: unknown): arg is string => typeof arg === 'string' && arg.includes('=');
          if (!args.some(mayHoldToken)) return method.apply(this, args);
          return method.apply(this, args.map((arg) => (mayHoldToken(arg) ? redactUrl(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
