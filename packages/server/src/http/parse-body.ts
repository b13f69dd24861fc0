import type { z } from 'zod';
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
