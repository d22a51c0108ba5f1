/**
 * Modules a handler imports on demand as `./<name>.mjs`, each bundled into its own file beside
 * `index.mjs` (lib/constructs/bundled-function.ts; the test helper bundles the same way). No CDK here.
 */

/** Loaded by the button handler only when a plug is not XOR (KLAP/AES/SMART, the credentials secret). */
export const BUTTON_LAZY_MODULES: readonly string[] = ['lambda/button-protocols.mts'];

/** `lambda/button-protocols.mts` → `button-protocols.mjs`: the file beside index.mjs and the handler's import specifier. */
export function lazyModuleFile(entry: string): string {
  return `${entry.split('/').pop()!.replace(/\.m?ts$/, '')}.mjs`;
}
