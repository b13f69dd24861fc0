/**
 * The pull URL (spec section 5). The rules live once, in p4p-sdk, so that p4p
 * and the SDK's endpoint doctor send exactly the same request.
 */
export { buildPullUrl, USER_ID_PLACEHOLDER } from 'p4p-sdk';
