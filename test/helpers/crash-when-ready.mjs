// Preloaded (`node --import`) into a sandbox CLI process by sandbox-crash.test.ts: once the file
// named by SHADOWPLUG_TEST_CRASH_WHEN exists (sandbox.json: the sandbox is up), throws an error
// that no handler catches, as a defect in any part would.
import { existsSync } from 'node:fs';

const file = process.env.SHADOWPLUG_TEST_CRASH_WHEN;
if (file) {
  const poll = setInterval(() => {
    if (!existsSync(file)) return;
    clearInterval(poll);
    setImmediate(() => {
      throw new Error('injected defect');
    });
  }, 20);
  poll.unref();
}
