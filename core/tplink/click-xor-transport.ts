/**
 * XOR over TCP for one button click: one connection to the device, opened at the first request,
 * requests in sequence, closed by `close()` at the end of the click. Nothing is shared with other
 * transports (no device lock, no idle hand-over): a click is the device's only client in its
 * process, and that machinery (xor-tcp-transport.ts) would only add to the Lambda's cold start.
 * The same frames, timeouts and typed errors as the shared transport (xor-exchange.ts).
 */
import { TplinkConnectionResetError, type TplinkEndpoint } from './errors';
import type { Transport } from './transport';
import { XorExchange, type XorExchangeOptions } from './xor-exchange';

export class ClickXorTransport implements Transport {
  readonly endpoint: TplinkEndpoint;
  private readonly xor: XorExchange;
  private readonly closing: Promise<void>[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(endpoint: TplinkEndpoint, options: XorExchangeOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    // A connection the device closes while idle is simply re-opened by the next request.
    this.xor = new XorExchange(this.endpoint, options, { trackClose: (closed) => this.closing.push(closed), onIdleClose: () => {} });
  }

  /** Sends after the requests before it; its request timeout counts from now, the wait included. */
  send(request: object): Promise<unknown> {
    const deadline = Date.now() + this.xor.requestTimeoutMs;
    const run = this.queue.then(() => {
      // Closed meanwhile (or before): no new connection after the click.
      if (this.closed) throw this.closedError();
      return this.xor.request(request, deadline);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The click is the only client: its requests already share the one connection. */
  hold<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.xor.abort(this.closedError());
    this.xor.drop(true);
    await Promise.all(this.closing);
  }

  private closedError(): TplinkConnectionResetError {
    return new TplinkConnectionResetError(this.endpoint, 'transport is closed');
  }
}
