/**
 * An IoT policy that does not allow what the agent does: told apart from another client taking
 * the client id over, and not a reconnect loop. Against the IoT Core stand-in, which enforces the
 * device policy as IoT Core does (a refused subscription is SUBACK 0x80; a refused publish closes
 * the connection, with no reason under MQTT 3.1.1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import type { IotPolicy } from '../../../core/iot-policy/policy';
import { createLogger } from '../../../core/logger';
import { startAgentHarness, untilIdle, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';
import { ManualTimers } from '../../helpers/manual-timers';

const CLASSIC = devicePolicy({ shadows: [CLASSIC_SHADOW] });
/**
 * The stack's policy for the classic shadow lets the hub subscribe to `shadow/*` (plug replies
 * included) but publish only its classic shadow's requests. This one names each classic reply
 * filter, so a plug shadow's subscription is refused too.
 */
const CLASSIC_REPLIES_ONLY: IotPolicy = CLASSIC.map((s) =>
  s.sid === 'SubscribeOwnShadowReplies'
    ? { ...s, resources: ['get/*', 'update/*'].map((r) => ({ type: 'topicfilter' as const, name: `$aws/things/\${iot:Connection.Thing.ThingName}/shadow/${r}` })) }
    : s,
);

describe('device agent under a policy that refuses some of its topics', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;
  let plug: SimulatedPlug | undefined;

  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await plug?.stop();
    await h?.close();
  });

  async function run(policy: IotPolicy): Promise<string[]> {
    h = await startAgentHarness({ iot: { devicePolicy: policy }, thing: 'hub-1' });
    plug = await startSimulatedPlug('hs100');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', json: true, write: (l: string) => void lines.push(l) });
    agent = await startAgent(h.agentOptions({ plugs: [{ id: 'kettle', hub: 'hub-1', host: plug.host, port: plug.port }], plugPollMs: 10_000, timers: new ManualTimers(), logger }));
    agent.on('error', () => undefined);
    return lines;
  }

  /** The file flow works, and the connection has settled (no reconnect loop). */
  async function fileFlowWorks(): Promise<void> {
    const desired = await h.put('f.txt', 'still served');
    h.setDesired(desired);
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed');
    await untilIdle(agent!, h.document().version);
  }

  it('stops publishing to a topic after which the broker drops the connection, names it, and does not blame another client', async () => {
    const lines = await run(CLASSIC);
    // The plug's get and update requests: each refused after two drops, then a connection that stays.
    for (const request of ['get', 'update']) {
      const topic = `$aws/things/hub-1/shadow/name/plug-kettle/${request}`;
      await waitFor(() => lines.some((l) => l.includes('the IoT policy refuses it') && l.includes(topic)), `${topic} named as refused`);
    }
    await fileFlowWorks();
    const connections = h.mqttProxy.connections;
    await fileFlowWorks();
    expect(h.mqttProxy.connections).toBe(connections);
    expect(lines.join('\n')).not.toContain('another client');
  });

  it('goes on without a plug shadow whose subscription the policy refuses, instead of reconnecting in a loop', async () => {
    const lines = await run(CLASSIC_REPLIES_ONLY);
    await waitFor(() => lines.some((l) => l.includes('subscription refused by the IoT policy') && l.includes('plug-kettle')), 'the refused subscription logged');
    await fileFlowWorks();
    expect(h.mqttProxy.connections).toBe(1);
    expect(lines.join('\n')).not.toContain('another client');
  });
});
