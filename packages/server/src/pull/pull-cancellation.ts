/**
 * Lets the caller cancel one pull (its lease is ending, p4p is stopping).
 * A plain object rather than an AbortController: the pull worker makes one
 * per pull, and a signal with its event listeners cost about 2 µs of each.
 */
export class PullCancellation {
  #cancelled = false;
  #listener: (() => void) | null = null;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const listener = this.#listener;
    this.#listener = null;
    listener?.();
  }

  /** The pull's own hook (one at a time; null removes it); runs at once when already cancelled. */
  onCancel(listener: (() => void) | null): void {
    if (this.#cancelled) listener?.();
    else this.#listener = listener;
  }
}
