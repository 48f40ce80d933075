/**
 * One profile at a time on this machine: two at once would measure each other. The
 * ProfileModel API refuses while one runs (the user can retry); run finalization waits.
 */
export class ProfileLock {
  private holder: string | null = null;
  private readonly waiting: (() => void)[] = [];

  /** What holds the lock ("penguins:3"), or null. */
  get busy(): string | null {
    return this.holder;
  }

  tryAcquire(name: string): boolean {
    if (this.holder !== null) return false;
    this.holder = name;
    return true;
  }

  /** Waits for the lock; rejects when `signal` aborts first. */
  async acquire(name: string, signal?: AbortSignal): Promise<void> {
    while (!this.tryAcquire(name)) {
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(new Error('cancelled while waiting for another profile'));
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          this.waiting.splice(this.waiting.indexOf(wake), 1);
          reject(new Error('cancelled while waiting for another profile'));
        };
        this.waiting.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  release(): void {
    this.holder = null;
    this.waiting.shift()?.();
  }
}
