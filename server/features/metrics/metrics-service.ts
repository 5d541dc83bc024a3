import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../../lib/clock';
import type { PoolStats } from '../../lib/db';
import { TIMED_OUT, within } from '../../lib/time-limit';

/** The queue's counts by state, as BullMQ gives them. */
type JobCounts = Record<string, number>;

export interface MetricsDeps {
  clock: Clock;
  /** The deadline queue's counts (waiting, delayed, failed, active); throws when Redis is away. */
  jobCounts(): Promise<JobCounts>;
  /** The due moment of the oldest pending deadline; throws when PostgreSQL is away. */
  oldestPendingDueAt(): Promise<Date | null>;
  pool(): PoolStats | null;
  /** Whether requests enqueue inline (false) or leave deadlines to the relay (true). */
  enqueueBreakerOpen(): boolean;
}

const QUEUE_STATES = ['waiting', 'delayed', 'failed', 'active'] as const;
/**
 * How long a scrape waits for Redis or PostgreSQL: a metric whose source does not answer in time
 * (away, or the pool full) is left without a sample, and the others are served.
 */
const SOURCE_TIMEOUT_MS = 1000;

/**
 * The Prometheus metrics of a web process, in a registry of its own (each app built in a test
 * has its own): HTTP latency by route pattern (never the raw URL: no ids or personal data in a
 * label), the deadline queue by state, the deadline lag (now minus the due moment of the oldest
 * pending deadline, from PostgreSQL), the connection pool, the enqueue breaker, and Node's own.
 */
export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  new Gauge({
    name: 'aller_vers_queue_jobs',
    help: 'Jobs of the deadline queue by state (no sample while Redis is away)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await within(deps.jobCounts(), SOURCE_TIMEOUT_MS).catch(() => null);
      if (!counts || counts === TIMED_OUT) return;
      for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  new Gauge({
    name: 'aller_vers_deadline_lag_seconds',
    help: 'Now minus the due moment of the oldest pending deadline (0 when none is due yet; no sample while PostgreSQL does not answer)',
    registers: [registry],
    async collect() {
      const oldest = await within(deps.oldestPendingDueAt(), SOURCE_TIMEOUT_MS).catch(
        (): typeof TIMED_OUT => TIMED_OUT,
      );
      // No labels: remove() drops the one sample (reset() would publish a lag of 0).
      if (oldest === TIMED_OUT) return this.remove();
      const lag = oldest ? (deps.clock.now().getTime() - oldest.getTime()) / 1000 : 0;
      this.set(Math.max(0, lag));
    },
  });

  new Gauge({
    name: 'aller_vers_db_pool_connections',
    help: 'Database pool connections: used, free, and requests waiting to acquire one',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const p = deps.pool();
      if (!p) return;
      this.set({ state: 'used' }, p.used);
      this.set({ state: 'free' }, p.free);
      this.set({ state: 'pending_acquire' }, p.pendingAcquires);
    },
  });

  new Gauge({
    name: 'aller_vers_db_pool_max',
    help: 'Largest number of connections the pool opens (DB_POOL_MAX)',
    registers: [registry],
    collect() {
      const p = deps.pool();
      if (p) this.set(p.max);
    },
  });

  new Gauge({
    name: 'aller_vers_enqueue_breaker_open',
    help: '1 while requests leave new deadlines to the relay after a failed enqueue (Redis away)',
    registers: [registry],
    collect() {
      this.set(deps.enqueueBreakerOpen() ? 1 : 0);
    },
  });

  /** Times every request, labelled by the pattern of the route that answered it. */
  const observeHttp: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.once('finish', () => {
      // The pattern (/api/persons/:id), never the path itself; static files and unknown paths
      // have no route and share one label.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  return {
    observeHttp,
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
