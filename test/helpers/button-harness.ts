/**
 * Test harness for the button handler: simulated plugs on 127.0.0.1 (tplink-smarthome-simulator
 * via the sandbox's wrapper), the real handler configured the way the stack configures it
 * (settings → environment → parsed config), and captured JSON log lines. Everything it starts is
 * closed by `close()`.
 */
import { buttonFunctionEnvironment, parseButtonConfig, type ButtonSettings } from '../../core/button/config';
import { createLogger } from '../../core/logger';
import { createHandler, type ButtonHandler, type ButtonHandlerDeps } from '../../lambda/button-click';
import { startSimulatedPlug, type SimulatedPlug } from '../../sandbox/simulated-plug';

export interface ButtonHarness {
  plug(options?: { strip?: boolean; alias?: string }): Promise<SimulatedPlug>;
  handler(settings: ButtonSettings, deps?: Omit<ButtonHandlerDeps, 'config'>): ButtonHandler;
  /** Parsed JSON log lines of every handler made by this harness. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export function buttonHarness(): ButtonHarness {
  const plugs: SimulatedPlug[] = [];
  const logs: Record<string, unknown>[] = [];
  return {
    logs,
    async plug(options = {}) {
      const p = await startSimulatedPlug(options);
      plugs.push(p);
      return p;
    },
    handler(settings, deps = {}) {
      const config = parseButtonConfig(buttonFunctionEnvironment({ connectTimeoutMs: 500, requestTimeoutMs: 500, plugMode: 'direct', ...settings }));
      const logger = createLogger({ json: true, level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
      return createHandler({ config, logger, ...deps });
    },
    async close() {
      await Promise.allSettled(plugs.splice(0).map((p) => p.close()));
    },
  };
}

/** `host:port` of a simulated plug, optionally with an outlet. */
export function at(plug: { host: string; port: number }, child?: number): string {
  return `${plug.host}:${plug.port}${child === undefined ? '' : `#${child}`}`;
}

/** A classic click as the topic rule delivers it. */
export function ruleClick(serial: string, clickType = 'SINGLE', over: Record<string, unknown> = {}): Record<string, unknown> {
  return { serialNumber: serial, clickType, batteryVoltage: '1705mV', requestId: `req-${Math.random()}`, receivedAt: Date.now(), ...over };
}
