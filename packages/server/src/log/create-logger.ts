import pino, { type DestinationStream, type Level, type Logger } from 'pino';

/**
 * Structured JSON logs, one object per line. Tokens and keys never reach a
 * line: URLs are passed through redactUrl where they are logged, and these
 * paths are censored wherever they appear.
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
    },
    destination,
  );
}
