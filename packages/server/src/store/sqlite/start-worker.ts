import { Worker } from 'node:worker_threads';

/** This module's extension: `.js` when compiled, `.ts` when run from the sources (tests, tsx). */
const EXTENSION = import.meta.url.slice(import.meta.url.lastIndexOf('.'));

/**
 * Starts a worker thread from a module next to this one (`name` without its
 * extension). From the TypeScript sources the thread needs tsx's loader too:
 * workers do not inherit module hooks on Node 20.
 */
export function startWorker(name: string, workerData: unknown): Worker {
  const url = new URL(`./${name}${EXTENSION}`, import.meta.url);
  if (EXTENSION !== '.ts') return new Worker(url, { workerData });
  const load = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(load, { eval: true, workerData });
}
