/** Which context key each function environment variable is made from (for limit messages): from the settings schema. */
import { contextKeyOfVariable } from '../../core/settings/stack';

export const ENVIRONMENT_CONTEXT_KEYS: Readonly<Record<string, string>> = contextKeyOfVariable();
