/** What the endpoint doctor checks, in the order it reports them (see docs/doctor.md). */
export const DOCTOR_CHECK_IDS = [
  'https',
  'valid_pull',
  'redirect',
  'profile',
  'profile_id',
  'no_token',
  'wrong_key',
  'expired_token',
  'response_time',
  'response_size',
] as const;
export type DoctorCheckId = (typeof DOCTOR_CHECK_IDS)[number];

/** `skip`: not checked because an earlier answer made it meaningless (the reason says which). */
export const DOCTOR_STATUSES = ['pass', 'warn', 'fail', 'skip'] as const;
export type DoctorStatus = (typeof DOCTOR_STATUSES)[number];

export interface DoctorCheck {
  id: DoctorCheckId;
  /** What is checked, e.g. "a request without a token is refused with 403 and an empty body". */
  title: string;
  status: DoctorStatus;
  /** What the endpoint did, exactly (status, header, field, figure). */
  reason: string;
  /** What to change; null when the check passed. */
  fix: string | null;
}

export interface DoctorReport {
  /** True when no check failed (warnings allowed). */
  ok: boolean;
  template: string;
  network: string;
  userId: string;
  /** The URL pulled: the template filled with the user id, without the lftoken. */
  url: string;
  checks: DoctorCheck[];
}

/** Answers slower than this are warned about, in ms: p4p aims to store a change well under a second after the ping. */
export const SLOW_ANSWER_MS = 1000;

/** Profiles larger than this are warned about, in bytes: a quarter of p4p's default cap, and dozens of times a real profile. */
export const LARGE_ANSWER_BYTES = 64 * 1024;

/** Default total timeout of each doctor request, in ms: p4p's default `--pull-timeout-ms`. */
export const DEFAULT_DOCTOR_TIMEOUT_MS = 10_000;

/** Default answer cap, in bytes: p4p's default `--pull-max-bytes` (256 KiB). */
export const DEFAULT_DOCTOR_MAX_BODY_BYTES = 256 * 1024;

/** Lifetime of the valid token the doctor pulls with, in s: p4p's own pull tokens live 5 minutes. */
export const DOCTOR_TOKEN_SECONDS = 300;

/** How far in the past the doctor's expired token expired, in s: well beyond the 60 s of clock skew every validator allows. */
export const EXPIRED_TOKEN_AGE_SECONDS = 600;
