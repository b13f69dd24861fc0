/** A sleep that `wake()` cuts short; a wake with nobody sleeping is kept for the next sleep. */
export class Wakeup {
  private pending = false;
  private release: (() => void) | null = null;

  wake(): void {
    const release = this.release;
    if (release === null) {
      this.pending = true;
      return;
    }
    this.release = null;
    release();
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.release = null;
        resolve();
      }, ms);
      this.release = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
