/**
 * Modules a handler imports on demand as `./<name>.mjs`, each bundled into its own file beside
 * `index.mjs` (by BundledFunction, and the same way by the test helper). No CDK here.
 */

/**
 * Loaded by the button handler on demand: the relay driver (relay mode), the XOR driver (direct
 * mode), and, only when a direct-mode plug is not XOR, KLAP/AES/SMART and the credentials secret.
 */
export const BUTTON_LAZY_MODULES: readonly string[] = ['lambda/button-relay.mts', 'lambda/button-direct.mts', 'lambda/button-protocols.mts'];

/** `lambda/button-protocols.mts` → `button-protocols.mjs`: the file beside index.mjs and the handler's import specifier. */
export function lazyModuleFile(entry: string): string {
  return `${entry.split('/').pop()!.replace(/\.m?ts$/, '')}.mjs`;
}
