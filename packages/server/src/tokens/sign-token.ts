/**
 * Signing is p4p-sdk's: the server signs the system token of every pull (and
 * the CLI's tokens) exactly as customers' code and the official libraries do.
 */
export { buildSystemToken, signToken } from 'p4p-sdk';
