import { Controller, Query, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { AccessGuard, CurrentPrincipal, type Principal } from '@arcwatch/access';
import { ConsoleError } from '../errors';
import { EVENT_TOPICS, EventsService, type EventTopic } from './events.service';

@Controller('api/console')
@UseGuards(AccessGuard)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  /**
   * Server-sent events, `?topics=fleet,alerts` (default both): `event: fleet` / `event: alerts`
   * with the JSON the GET routes answer, whenever it changes; `event: unavailable` when a service
   * did not answer. Alerts follow the token's tenant scope, as GET /alerts does.
   */
  @Sse('events')
  stream(@CurrentPrincipal() p: Principal, @Query('topics') topics?: string): Observable<MessageEvent> {
    const asked = (topics ?? EVENT_TOPICS.join(','))
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const unknown = asked.filter((t) => !(EVENT_TOPICS as readonly string[]).includes(t));
    if (unknown.length > 0 || asked.length === 0)
      throw new ConsoleError('VALIDATION_FAILED', `topics: one or more of ${EVENT_TOPICS.join(', ')}`, {
        details: { field: 'topics' },
      });
    return this.events
      .stream(p, [...new Set(asked)] as EventTopic[])
      .pipe(map((e) => ({ type: e.type, data: e.data }) as MessageEvent));
  }
}
