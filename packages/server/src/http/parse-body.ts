import type { z } from 'zod';
import { jsonType } from '../tokens/token-errors.js';
import { ApiError } from './api-errors.js';

/** Validates a request body (or query string) with a schema; the 400 names every problem and where it is. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, part: 'body' | 'query' = 'body'): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.length === 0 ? part : issue.path.join('.');
    return `${where}: ${issue.message}`;
  });
  throw new ApiError('invalid_body', problems.join('; '));
}

/**
 * A body, when there is one, is a form or a JSON object (spec section 3: 400
 * for a malformed body); `example` shows the object the route expects.
 */
export function checkBodyIsObject(body: unknown, example: string): void {
  if (body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body))) return;
  throw new ApiError('invalid_body', `the body must be a form or a JSON object such as ${example}, not ${jsonType(body)}`);
}
