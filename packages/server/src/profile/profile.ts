/**
 * The remote profile as p4p stores it (spec section 6). The type, its field
 * lists and the rules that produce it live in p4p-sdk, so that p4p and the
 * customer's SDK can never disagree on what a valid profile is.
 */
export {
  DISPLAY_RULE_FIELDS,
  NAME_PARTS,
  NOTIFICATION_FREQUENCIES,
  NOTIFICATION_KINDS,
  PROFILE_FIELDS,
  type DisplayRuleField,
  type NamePart,
  type NotificationFrequency,
  type NotificationKind,
  type Profile,
} from 'p4p-sdk';
