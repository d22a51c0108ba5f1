/** Device Shadow MQTT topic names, classic and named: `$aws/things/<thing>/shadow[/name/<shadow>]/...`. Pure. */
export const SHADOW_NAME_PATTERN = /^[$a-zA-Z0-9:_-]{1,64}$/;
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;

export type ShadowTopics = ReturnType<typeof shadowTopics>;

export function shadowTopics(thingName: string, shadowName?: string) {
  const prefix = `$aws/things/${thingName}/shadow${shadowName ? `/name/${shadowName}` : ''}`;
  return {
    prefix,
    get: `${prefix}/get`,
    getAccepted: `${prefix}/get/accepted`,
    getRejected: `${prefix}/get/rejected`,
    update: `${prefix}/update`,
    updateAccepted: `${prefix}/update/accepted`,
    updateRejected: `${prefix}/update/rejected`,
    updateDelta: `${prefix}/update/delta`,
    updateDocuments: `${prefix}/update/documents`,
    delete: `${prefix}/delete`,
    deleteAccepted: `${prefix}/delete/accepted`,
    deleteRejected: `${prefix}/delete/rejected`,
  };
}

/**
 * What a device serving a shadow subscribes to before its first `get`: the delta, the answers to
 * its `get` and its rejected updates, plus `also` (its accepted updates, a deletion).
 */
export function deviceSubscriptions(t: ShadowTopics, also: readonly ('updateAccepted' | 'deleteAccepted')[] = []): string[] {
  return [t.updateDelta, t.getAccepted, t.getRejected, t.updateRejected, ...also.map((k) => t[k])];
}

export type ShadowOperation = 'get' | 'update' | 'delete';

/** What a topic addresses, or undefined when it is not a shadow request topic (`get`, `update`, `delete`). */
export function parseShadowRequestTopic(topic: string): { thingName: string; shadowName?: string; operation: ShadowOperation } | undefined {
  const m = /^\$aws\/things\/([^/]+)\/shadow(?:\/name\/([^/]+))?\/(get|update|delete)$/.exec(topic);
  if (!m) return undefined;
  const [, thingName, shadowName, operation] = m;
  return { thingName: thingName!, ...(shadowName ? { shadowName } : {}), operation: operation as ShadowOperation };
}
