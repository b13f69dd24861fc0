import { after, before } from 'node:test';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { PullEndpoint } from './pull-endpoint.js';
import { ServeProcess } from './serve-process.js';

/** What the tests running several `p4p serve` processes on one PostgreSQL database share. */
export interface ServeFleet {
  database: TestDatabase;
  endpoint: PullEndpoint;
}

/**
 * Registers hooks in the enclosing describe(): before its tests, a fresh
 * database and a pull endpoint; after them, every serve process still
 * running is killed and both are removed. Returns the fleet's parts (for use
 * inside the tests).
 */
export function serveFleetOnPostgres(databasePrefix: string): () => ServeFleet {
  let fleet: ServeFleet | undefined;
  let database: TestDatabase | undefined;
  let endpoint: PullEndpoint | undefined;
  before(async () => {
    database = await createTestDatabase(databasePrefix);
    endpoint = await PullEndpoint.start();
    fleet = { database, endpoint };
  });
  after(async () => {
    await ServeProcess.killAll();
    await endpoint?.close();
    await database?.drop();
  });
  return () => {
    if (fleet === undefined) throw new Error('the serve fleet is set up in before(): use it inside a test');
    return fleet;
  };
}
