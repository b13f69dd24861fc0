/**
 * Validation and normalisation of pulled profiles (spec section 6). The rules
 * are p4p-sdk's `validateProfile`, the one the SDK's pull handler checks
 * profiles with in development, so both sides give the same verdict and the
 * same messages.
 */
export { MAX_BAD_ELEMENTS, MAX_WARNINGS, validateProfile, type ProfileCheck } from 'p4p-sdk';
