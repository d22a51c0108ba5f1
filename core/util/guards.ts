/** Type guards shared by every domain. Pure. */

/** A plain JSON-style object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
