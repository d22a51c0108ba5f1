/**
 * A plug driver whose code is loaded at the first click that needs it. The button function keeps
 * each mode's driver in a file of its own (relay: the shadow client; direct: the TP-Link client),
 * so a cold start loads only the handler and the click loads only its mode's driver. Pure.
 */
import type { PlugDriver, TargetState } from './execute';
import type { PlugTarget } from './targets';

export function lazyDriver(load: () => Promise<PlugDriver>): PlugDriver {
  let loading: Promise<PlugDriver> | undefined;
  let loaded: PlugDriver | undefined;
  let click: { requestId?: string } | undefined;
  // A failed load (a missing file) is tried again at the next click, not remembered.
  const driver = async (): Promise<PlugDriver> => {
    if (loaded) return loaded;
    const d = await (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
    if (!loaded) {
      loaded = d;
      // The click began before its driver was there: tell it now, before its first read.
      if (click) d.begin?.(click);
    }
    return d;
  };

  return {
    read: async (target: PlugTarget): Promise<TargetState> => (await driver()).read(target),
    write: async (target: PlugTarget, on: boolean): Promise<TargetState> => (await driver()).write(target, on),
    async close() {
      await loaded?.close?.();
    },
    begin(c) {
      click = c;
      loaded?.begin?.(c);
    },
    async alreadyHandled(targets) {
      const d = await driver();
      return d.alreadyHandled ? d.alreadyHandled(targets) : false;
    },
  };
}
