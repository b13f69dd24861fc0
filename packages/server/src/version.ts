import { createRequire } from 'node:module';

/** This package's version, sent as p4p/<version> in the pull User-Agent. */
export const P4P_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
