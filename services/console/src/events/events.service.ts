import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { Principal } from '@arcwatch/access';
import { InjectClock, type Clock, type TimerHandle } from '@arcwatch/runtime';
import { AlertsService } from '../alerts/alerts.service';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { FleetService } from '../fleet/fleet.service';

export const EVENT_TOPICS = ['fleet', 'alerts'] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** One server-sent event: `type` is the SSE event name, `data` its JSON. */
export interface ConsoleEvent {
  type: EventTopic | 'unavailable';
  data: string;
}

/**
 * The live pages' stream: the same bodies as GET /api/console/fleet and /alerts, sent when they
 * change. The console asks the services every CONSOLE_EVENTS_INTERVAL_MS while someone listens;
 * the fleet (no tenant data) is asked once per interval for every listener, alerts per listener
 * because they are filtered by the token's tenant. A failed ask sends `unavailable` and the
 * stream goes on; the page keeps what it has.
 */
@Injectable()
export class EventsService {
  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly fleet: FleetService,
    private readonly alerts: AlertsService,
  ) {}

  stream(p: Principal, topics: readonly EventTopic[]): Observable<ConsoleEvent> {
    return new Observable<ConsoleEvent>((sub) => {
      const last = new Map<EventTopic, string>();
      let timer: TimerHandle | undefined;
      let closed = false;
      let first = true;
      const tick = async () => {
        const opening = first;
        first = false;
        for (const topic of topics) {
          try {
            const data = JSON.stringify(await this.read(p, topic, opening));
            if (closed) return;
            if (data !== last.get(topic)) {
              last.set(topic, data);
              sub.next({ type: topic, data });
            }
          } catch (err) {
            if (closed) return;
            last.delete(topic);
            sub.next({ type: 'unavailable', data: JSON.stringify({ topic, message: (err as Error).message }) });
          }
        }
        if (!closed) timer = this.clock.setTimeout(() => void tick(), this.config.eventsIntervalMs);
      };
      void tick();
      return () => {
        closed = true;
        this.clock.clearTimeout(timer);
      };
    });
  }

  private read(p: Principal, topic: EventTopic, opening: boolean): Promise<unknown> {
    if (topic === 'alerts') return this.alerts.list(p);
    // A stream opens with the snapshot GET /api/console/fleet answers from (a page that has just
    // loaded gets it at once, with no recomputation competing with its first render); later ticks
    // within half an interval of one another share one answer, and the others refresh it.
    return this.fleet.current(opening ? this.config.eventsIntervalMs : this.config.eventsIntervalMs / 2);
  }
}
