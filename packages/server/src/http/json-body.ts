import { escapeHidden } from 'p4p-sdk';
import secureJson from 'secure-json-parse';
import { ApiError } from './api-errors.js';

const PROTO_KEYS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Parses a JSON request body, refusing keys that could reach an object's
 * prototype (`__proto__`, `constructor.prototype`), and says which problem it
 * found: Fastify's own parser answers both with one generic line.
 */
export function parseJsonBody(text: string): unknown {
  try {
    return secureJson.parse(text, null, PROTO_KEYS) as unknown;
  } catch {
    throw new ApiError('invalid_body', describeRefusal(text));
  }
}

/** Only reached for a refused body, so it may parse again. */
function describeRefusal(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    // V8's message quotes a few characters of the body as they are.
    return `the body is not valid JSON: ${escapeHidden((error as Error).message)}`;
  }
  return 'the JSON body has a "__proto__" key, or a "constructor" key holding "prototype"; p4p refuses both, as they can reach object prototypes: leave them out';
}
