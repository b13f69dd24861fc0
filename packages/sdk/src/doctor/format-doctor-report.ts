import type { DoctorReport, DoctorStatus } from './doctor-report.js';

const MARKS: Record<DoctorStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/**
 * The report as text for a terminal: one line per check (status, id, reason),
 * the fix indented below every warning and failure, and a closing summary.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = [`p4p doctor: ${report.url} (network ${report.network}, user ${report.userId})`, ''];
  for (const check of report.checks) {
    lines.push(`${MARKS[check.status]}  ${check.id.padEnd(14)} ${check.reason}`);
    if (check.fix !== null) lines.push(`      ${''.padEnd(14)} fix: ${check.fix}`);
  }
  const count = (status: DoctorStatus): number => report.checks.filter((check) => check.status === status).length;
  lines.push('', `${count('pass')} passed, ${count('warn')} warned, ${count('fail')} failed, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}
