import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  decideAlerts,
  expandAlertTemplate,
  labelsKey,
  templateQuery,
  type AlertCandidate,
  type RuleAlertState,
} from '@arcwatch/alerting';
import {
  createDetector,
  initialFlapState,
  loadDetectorFile,
  observeFlap,
  type DetectorDefinition,
  type DetectorState,
  type FlapState,
  type StreamingDetector,
} from '@arcwatch/detectors';
import { OutboxRelay, type OutboxEntry } from '@arcwatch/outbox';
import { InjectClock, type Clock, type TimerHandle } from '@arcwatch/runtime';
import { ANOMALY_CONFIG, type AnomalyConfig } from '../config';
import { AnomalyMetrics } from '../metrics';
import { alertOutboxEntry, generatorUrl } from '../rules/alert-events';
import { AlertStateRepository } from '../rules/alert-state.repository';
import { RulesService } from '../rules/rules.service';

/** What is persisted per detector definition: its alerts, each series' detector memory and flap state. */
interface DetectorRecord extends RuleAlertState {
  detectors: Record<string, DetectorState>;
  flap: Record<string, FlapState>;
  /** Alerts (by label-set key) whose current episode flap detection has marked; its resolved event says so. */
  flapped?: string[];
}

interface Watched {
  def: DetectorDefinition;
  key: string;
  record: DetectorRecord;
  live: Map<string, StreamingDetector>;
}

/**
 * Statistical detectors from @arcwatch/detectors over the same live window as the rules. Every
 * detector interval each definition's selector is evaluated, each series' value goes to its own
 * streaming detector, and the series whose finding is active become candidates of the same alert
 * state machine as the rules (`for`, resolution, 15-minute retention); a series with no data is
 * no candidate, so `for` restarts after a gap. Flap detection (when configured) holds a flapping
 * finding firing and marks its events `flapping`. Detector memory is persisted with the alert
 * state, so a restart continues the baselines.
 */
@Injectable()
export class DetectorsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DetectorsService.name);
  private watched: Watched[] = [];
  private timer: TimerHandle | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    @Inject(ANOMALY_CONFIG) private readonly config: AnomalyConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly rules: RulesService,
    private readonly repository: AlertStateRepository,
    private readonly relay: OutboxRelay,
    private readonly metrics: AnomalyMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.detectorFiles.length === 0) return;
    const defs = this.config.detectorFiles.flatMap((f) => loadDetectorFile(f));
    const saved = await this.repository.loadAll();
    this.watched = defs.map((def) => {
      const key = `detector::${def.file}::${def.name}`;
      const prev = saved.get(key) as Partial<DetectorRecord> | undefined;
      return {
        def,
        key,
        record: {
          alerts: prev?.alerts ?? {},
          detectors: prev?.detectors ?? {},
          flap: prev?.flap ?? {},
          flapped: prev?.flapped ?? [],
        },
        live: new Map(),
      };
    });
    this.timer = this.clock.setInterval(() => void this.tick(), this.config.detectorIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.clock.clearInterval(this.timer);
    await this.running;
  }

  /** One step of every detector at the clock's time; resolves when committed. */
  tick(): Promise<void> {
    this.running = this.running
      .then(() => this.step())
      .catch((err: unknown) => this.logger.error(`detectors: ${(err as Error).message}`));
    return this.running;
  }

  private async step(): Promise<void> {
    const now = this.clock.now();
    for (const w of this.watched) await this.stepOne(w, now);
  }

  private detectorFor(w: Watched, seriesKey: string): StreamingDetector {
    let d = w.live.get(seriesKey);
    if (!d) {
      d = createDetector(w.def.spec, w.record.detectors[seriesKey]);
      w.live.set(seriesKey, d);
    }
    return d;
  }

  private async stepOne(w: Watched, now: number): Promise<void> {
    const { result } = await this.rules.engine.evaluateInstant(w.def.ast, now);
    const rows =
      result.type === 'vector' ? result.samples : result.type === 'scalar' ? [{ labels: {}, value: result.value }] : [];
    const query = templateQuery(this.rules.engine, now);
    const candidates: AlertCandidate[] = [];
    const flappingKeys = new Set<string>();
    const startedKeys = new Set<string>();
    const seen = new Set<string>();
    for (const r of rows) {
      const seriesKey = labelsKey(r.labels);
      seen.add(seriesKey);
      const det = this.detectorFor(w, seriesKey);
      const out = det.update(now, r.value);
      w.record.detectors[seriesKey] = det.state();
      let active = out.anomalous;
      let started = false;
      if (w.def.flap) {
        const obs = observeFlap(w.record.flap[seriesKey] ?? initialFlapState(), now, out.anomalous, w.def.flap);
        w.record.flap[seriesKey] = obs.state;
        active = out.anomalous || obs.holdFiring;
        started = obs.change === 'started';
      }
      if (!active) continue;
      const labels: Record<string, string> = { ...r.labels, ...w.def.labels, severity: w.def.severity };
      delete labels.__name__;
      const alertKey = labelsKey({ ...labels, alertname: w.def.name });
      if (w.record.flap[seriesKey]?.flapping) flappingKeys.add(alertKey);
      if (started) startedKeys.add(alertKey);
      const input = {
        alertName: w.def.name,
        labels: r.labels,
        externalLabels: this.config.externalLabels,
        externalUrl: this.config.externalUrl,
        value: r.value,
        timeMs: now,
        query,
      };
      const annotations: Record<string, string> = { score: out.score.toFixed(3), direction: out.direction };
      for (const [k, v] of Object.entries(w.def.annotations)) annotations[k] = await expandAlertTemplate(v, input);
      candidates.push({ labels, annotations, value: r.value });
    }
    // Series that left the selector keep no detector memory in the persisted record.
    for (const k of Object.keys(w.record.detectors)) if (!seen.has(k) && !w.live.has(k)) delete w.record.detectors[k];
    const decision = decideAlerts(
      w.record,
      { name: w.def.name, forMs: w.def.forMs, keepFiringForMs: 0 },
      candidates,
      now,
    );
    // An episode is marked flapping from the evaluation where flapping starts (or the one it fires
    // in, if it was still pending) until it resolves: the firing alert is sent again marked
    // flapping, and its resolved event carries the mark too.
    const flapped = new Set(w.record.flapped ?? []);
    const origin = { kind: 'detector' as const, group: w.def.file, name: w.def.name };
    const url = generatorUrl(this.config.externalUrl, w.def.selector);
    const entries: OutboxEntry[] = [];
    const fired = new Set<string>();
    for (const t of decision.transitions) {
      const key = labelsKey(t.alert.labels);
      if (t.kind === 'firing') {
        fired.add(key);
        if (flappingKeys.has(key)) flapped.add(key);
        entries.push(alertOutboxEntry(t, origin, url, flapped.has(key)));
      } else if (t.kind === 'resolved') {
        entries.push(alertOutboxEntry(t, origin, url, flapped.has(key)));
        flapped.delete(key);
      }
    }
    for (const key of startedKeys) {
      const a = decision.state.alerts[key];
      if (!a || a.state !== 'firing' || fired.has(key)) continue;
      flapped.add(key);
      entries.push(alertOutboxEntry({ kind: 'flapping', alert: a, atMs: now }, origin, url, true));
    }
    for (const key of flapped) if (!decision.state.alerts[key]) flapped.delete(key);
    const record: DetectorRecord = { ...w.record, alerts: decision.state.alerts, flapped: [...flapped] };
    await this.repository.commit([{ ruleKey: w.key, state: record }], now, entries);
    w.record = record;
    this.metrics.inc('alert_transitions', entries.length);
    if (entries.length > 0)
      await this.relay.flush().catch((err: unknown) => this.logger.warn(`outbox relay: ${(err as Error).message}`));
  }

  /** Alerts of one detector definition that are pending or firing (for /api/v1/alerts). */
  alerts(): Array<{ name: string; state: RuleAlertState }> {
    return this.watched.map((w) => ({ name: w.def.name, state: { alerts: w.record.alerts } }));
  }
}
