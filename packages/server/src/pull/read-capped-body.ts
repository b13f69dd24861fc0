/** Shared with the SDK's endpoint doctor, so both read an answer the same way. */
export { discardBody, readCappedBody, type CappedBody } from 'p4p-sdk';
