import pg from 'pg';
import type { Logger } from 'pino';
import { PULL_URL_CHANGED, WORK_CHANNEL } from './postgres-store.js';

/** The listening connection's application_name in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'p4p-listen';

/** What a notification asks of this process's pull worker. */
export interface WorkListeners {
  /** Work may be due now. */
  onWork: () => void;
  /** A network's pull URL changed (in any process): its endpoint's past failures no longer count. */
  onPullUrlChanged: (networkId: number) => void;
}

/** Pause before reconnecting after the listening connection failed, in ms; doubles up to the maximum. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;
/**
 * A LISTEN connection only receives, so a half-open one (server host gone,
 * a NAT or firewall dropping the flow) would go unnoticed for the OS default
 * keepalive delay of about two hours: TCP keepalive probes start after 10 s
 * idle instead. A connect that hangs is given up after 10 s and retried.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * LISTENs on the work channel on a connection of its own and calls `onWork`
 * for every notification (`onPullUrlChanged` for a pull URL change): a ping
 * taken by any process wakes the pull workers of every process. It
 * reconnects by itself after the database restarts, and calls `onWork` after
 * each (re)connection, since notifications sent while it was away are lost.
 */
export class WorkListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delayMs = RECONNECT_MIN_MS;

  private constructor(
    private readonly url: string,
    private readonly listeners: WorkListeners,
    private readonly log: Logger,
  ) {}

  static start(url: string, listeners: WorkListeners, log: Logger): WorkListener {
    const listener = new WorkListener(url, listeners, log);
    void listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    this.client = client;
    client.on('notification', ({ payload }) => {
      if (payload?.startsWith(PULL_URL_CHANGED)) this.listeners.onPullUrlChanged(Number(payload.slice(PULL_URL_CHANGED.length)));
      else this.listeners.onWork();
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.delayMs > RECONNECT_MIN_MS) this.log.info({ event: 'listen_restored' }, 'listening for work notifications again');
    this.delayMs = RECONNECT_MIN_MS;
    this.listeners.onWork();
  }

  /** The connection is gone (once per connection): try again after a pause. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    client.end().catch(() => undefined);
    this.log.warn({ event: 'listen_lost', err: error ?? undefined, retry_ms: this.delayMs }, 'lost the work notification connection; reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, RECONNECT_MAX_MS);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }
}
