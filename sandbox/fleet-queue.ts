/**
 * An in-process stand-in for the fan-out queue and its event source mapping: SQS-shaped batches
 * with `ApproximateReceiveCount`; `batchItemFailures` come back after `visibilityMs`, and after
 * `maxReceiveCount` deliveries go to the dead-letter list, which `redrive()` empties back.
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface InProcessQueueOptions {
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  maxReceiveCount: number;
  /** Records per invocation (the event source mapping's batch size). Default 10. */
  batchSize?: number;
  /** Invocations at once (Lambda's concurrency for this queue). Default 2. */
  concurrency?: number;
  /** How long a failed message stays invisible before it is delivered again. Default 1 s. */
  visibilityMs?: number;
  /** A handler that throws: every record of its event comes back. */
  onError?: (err: unknown) => void;
}

interface Message {
  id: string;
  body: string;
  receives: number;
}

export class InProcessQueue {
  private readonly ready: Message[] = [];
  private readonly deadLetters: Message[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private waiting = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: InProcessQueueOptions) {}

  send(bodies: readonly string[]): void {
    for (const body of bodies) this.ready.push({ id: randomUUID(), body, receives: 0 });
    this.pump();
  }

  /** Messages that ended in the dead-letter list. */
  get deadLettered(): readonly string[] {
    return this.deadLetters.map((m) => m.body);
  }

  /** Moves every dead-lettered message back onto the queue, its receive count reset. */
  redrive(): number {
    const moved = this.deadLetters.splice(0);
    for (const m of moved) m.receives = 0;
    this.ready.push(...moved);
    this.pump();
    return moved.length;
  }

  /** Resolves when nothing is queued, in flight or waiting to become visible again. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    this.waiting = 0;
    this.settle();
  }

  private isIdle(): boolean {
    return this.ready.length === 0 && this.running === 0 && this.waiting === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    const { batchSize = 10, concurrency = 2 } = this.options;
    while (!this.stopped && this.running < concurrency && this.ready.length > 0) {
      const taken = this.ready.splice(0, batchSize);
      this.running++;
      void this.deliver(taken).finally(() => {
        this.running--;
        this.pump();
        this.settle();
      });
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((m) => {
      m.receives++;
      return { messageId: m.id, body: m.body, attributes: { ApproximateReceiveCount: String(m.receives) } } as unknown as SQSRecord;
    });
    let failedIds: Set<string>;
    try {
      const res = await this.options.handler({ Records: records });
      failedIds = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (err) {
      this.options.onError?.(err);
      failedIds = new Set(messages.map((m) => m.id));
    }
    for (const m of messages) if (failedIds.has(m.id)) this.retryLater(m);
  }

  private retryLater(m: Message): void {
    if (this.stopped) return;
    if (m.receives >= this.options.maxReceiveCount) {
      this.deadLetters.push(m);
      return;
    }
    this.waiting++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.waiting--;
      this.ready.push(m);
      this.pump();
      this.settle();
    }, this.options.visibilityMs ?? 1_000);
    this.timers.add(timer);
  }
}
