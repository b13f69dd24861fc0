/** The redactor is shared with the SDK's endpoint doctor, so both hide tokens by the same rules. */
export { redactUrl } from 'p4p-sdk';
