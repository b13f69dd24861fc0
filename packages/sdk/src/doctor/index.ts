/** The endpoint doctor: tests a pull endpoint as p4p will use it (docs/doctor.md). */
export { DEFAULT_DOCTOR_USER_AGENT, testPullEndpoint, type TestPullEndpointOptions } from './test-pull-endpoint.js';
export { formatDoctorReport } from './format-doctor-report.js';
export {
  DEFAULT_DOCTOR_MAX_BODY_BYTES,
  DEFAULT_DOCTOR_TIMEOUT_MS,
  DOCTOR_CHECK_IDS,
  DOCTOR_STATUSES,
  LARGE_ANSWER_BYTES,
  SLOW_ANSWER_MS,
  type DoctorCheck,
  type DoctorCheckId,
  type DoctorReport,
  type DoctorStatus,
} from './doctor-report.js';
