import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the system temp dir, and its removal. */
export function makeTempDir(prefix = 'p4p-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Fresh directories for one test file (a data directory per test), removed together by removeAll(). */
export class TempDirs {
  private readonly made: Array<{ remove: () => void }> = [];

  constructor(private readonly prefix: string) {}

  /** A new empty directory; its path. */
  make(): string {
    const temp = makeTempDir(this.prefix);
    this.made.push(temp);
    return temp.path;
  }

  removeAll(): void {
    this.made.splice(0).forEach((temp) => temp.remove());
  }
}
