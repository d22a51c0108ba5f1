/**
 * The stack in relay mode (the default): the button function may get and update exactly the
 * configured plug shadows and nothing else of IoT, each hub's policy adds its own `plug-*`
 * shadows, and the function is configured for the relay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUTTON_ENV, parseButtonConfig } from '../../core/button/config';
import { renderList } from './render';
import { resourceId, roleStatements, synthesize, type Synthesis } from './synth';

const ARN = 'arn:aws:iot:eu-west-1:123456789012';
let s: Synthesis;

beforeAll(() => {
  s = synthesize({ thingNames: 'hub-a,hub-b', plugHost: '192.168.1.20', plugs: 'lamp@hub-a=192.168.1.20,fan@hub-b=192.168.1.30#2', buttonTargets: JSON.stringify({ G030JF05: '192.168.1.30#2' }) }, { bundle: false });
});
afterAll(() => s?.close());

describe('plugMode=relay (the default)', () => {
  it('lets the button function get and update only the configured plug shadows (besides outcomes, their key and its logs)', () => {
    const statements = roleStatements(s, resourceId(s, 'AWS::IAM::Role', 'ButtonPathHandlerRole'));
    const iot = statements.filter((st) => renderList(st.Action).some((a) => a.startsWith('iot:')));
    expect(iot.map((st) => [renderList(st.Action).sort(), renderList(st.Resource)])).toEqual([
      [['iot:GetThingShadow', 'iot:UpdateThingShadow'], [`${ARN}:thing/hub-a/plug-lamp`, `${ARN}:thing/hub-b/plug-fan`]],
    ]);
    // logs, sns:Publish, the topic key, and the plug shadows.
    expect(statements).toHaveLength(4);
  });

  it('configures the function for the relay: mode, plugs and the data endpoint', () => {
    const fn = s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'ButtonPathHandlerFunction')]!;
    const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[BUTTON_ENV.plugMode]).toBe('relay');
    expect(variables[BUTTON_ENV.plugs]).toBe('lamp@hub-a=192.168.1.20:9999,fan@hub-b=192.168.1.30:9999#2');
    expect(variables[BUTTON_ENV.iotDataEndpoint]).toBeDefined();
    const { [BUTTON_ENV.snsTopicArn]: _t, [BUTTON_ENV.iotDataEndpoint]: _e, ...rest } = variables as Record<string, string>;
    expect(parseButtonConfig(rest).plugs).toHaveLength(2);
  });

  it("adds each hub's own plug-* shadows to the device policy, within its own thing", () => {
    const policy = s.json.Resources[resourceId(s, 'AWS::IoT::Policy', 'DevicesDevicePolicy')]!;
    const resources = (policy.Properties?.PolicyDocument as { Statement: { Resource: unknown }[] }).Statement.flatMap((st) => renderList(st.Resource));
    expect(resources).toContain(`${ARN}:topic/$aws/things/\${iot:Connection.Thing.ThingName}/shadow/name/plug-*/update`);
    for (const r of resources.filter((x) => x.includes('plug-'))) expect(r).toContain('things/${iot:Connection.Thing.ThingName}/shadow/name/plug-*/');
  });
});
