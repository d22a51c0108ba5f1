/**
 * What the sandbox has started, closed in reverse (clients before their servers); a part that fails
 * to close is logged and the rest still close, so one stuck socket cannot keep a port bound.
 */
import type { Logger } from '../core/logger';

export class Teardown {
  private readonly steps: { name: string; close: () => Promise<void> }[] = [];
  private readonly stopHooks: (() => void)[] = [];
  private stopping = false;

  constructor(private readonly logger: Logger) {}

  /** True from the first `close()` on: late callbacks use it to stay quiet. */
  get closing(): boolean {
    return this.stopping;
  }

  /** `close` runs at teardown, before everything added earlier. */
  add(name: string, close: () => Promise<void>): void {
    this.steps.push({ name, close });
  }

  /** `stop` runs synchronously as teardown begins, before any part closes (timers, narration). */
  onClosing(stop: () => void): void {
    this.stopHooks.push(stop);
  }

  async close(): Promise<void> {
    this.stopping = true;
    for (const stop of this.stopHooks.splice(0)) stop();
    for (const { name, close } of this.steps.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.logger.warn(`sandbox: closing ${name} failed`, { err });
      }
    }
  }
}
