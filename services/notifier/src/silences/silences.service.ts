import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { silenceState, validateSilence, type Matcher, type Silence } from '@arcwatch/alertmanager';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { NotifierError } from '../errors';
import { isStorableText } from '../storable-text';
import { SilencesRepository } from './silences.repository';

/** Alertmanager API v2 matcher: isEqual defaults to true. */
export interface ApiMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

export interface PostableSilence {
  id?: string;
  matchers: ApiMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export function fromApiMatcher(m: ApiMatcher): Matcher {
  const eq = m.isEqual ?? true;
  return { name: m.name, value: m.value, type: m.isRegex ? (eq ? '=~' : '!~') : eq ? '=' : '!=' };
}

export function toApiMatcher(m: Matcher): Required<ApiMatcher> {
  return {
    name: m.name,
    value: m.value,
    isRegex: m.type === '=~' || m.type === '!~',
    isEqual: m.type === '=' || m.type === '=~',
  };
}

@Injectable()
export class SilencesService {
  /** Silences cached for the dispatcher; refreshed on every change made here and on each load. */
  private cache: Silence[] = [];

  constructor(
    private readonly repo: SilencesRepository,
    @InjectClock() private readonly clock: Clock,
  ) {}

  async load(): Promise<Silence[]> {
    this.cache = await this.repo.all();
    return this.cache;
  }

  cached(): readonly Silence[] {
    return this.cache;
  }

  async create(p: PostableSilence): Promise<string> {
    const now = new Date(this.clock.now());
    const matchers = p.matchers.map(fromApiMatcher);
    const startsAt = new Date(p.startsAt);
    const endsAt = new Date(p.endsAt);
    for (const [field, d] of [
      ['startsAt', startsAt],
      ['endsAt', endsAt],
    ] as const)
      if (Number.isNaN(d.getTime()))
        throw new NotifierError('SILENCE_INVALID', `${field} is not an RFC 3339 time: ${JSON.stringify(p[field])}`);
    for (const [field, v] of [
      ['createdBy', p.createdBy],
      ['comment', p.comment],
      ...p.matchers.flatMap((m, i) => [
        [`matchers[${i}].name`, m.name],
        [`matchers[${i}].value`, m.value],
      ]),
    ] as const)
      if (!isStorableText(v))
        throw new NotifierError('SILENCE_INVALID', `${field}: a NUL character or a lone surrogate cannot be stored`);
    const err = validateSilence({ matcherSets: [matchers], startsAt, endsAt }, 'fallback');
    if (err) throw new NotifierError('SILENCE_INVALID', err);
    if (endsAt.getTime() <= startsAt.getTime())
      throw new NotifierError('SILENCE_INVALID', 'start time must be before end time');
    if (endsAt.getTime() < now.getTime()) throw new NotifierError('SILENCE_INVALID', "end time can't be in the past");
    const existing = p.id ? await this.repo.get(p.id) : undefined;
    if (p.id && !existing) throw new NotifierError('SILENCE_NOT_FOUND', `silence ${p.id} not found`);
    const id = existing?.id ?? randomUUID();
    // A silence starting in the past starts now, as Alertmanager does.
    const start = startsAt.getTime() < now.getTime() && !existing ? now : startsAt;
    await this.repo.save({
      id,
      matcherSets: [matchers],
      startsAt: start,
      endsAt,
      createdBy: p.createdBy,
      comment: p.comment,
      updatedAt: now,
    });
    await this.load();
    return id;
  }

  async get(id: string): Promise<Silence> {
    const s = await this.repo.get(id);
    if (!s) throw new NotifierError('SILENCE_NOT_FOUND', `silence ${id} not found`);
    return s;
  }

  async expire(id: string): Promise<void> {
    const s = await this.get(id);
    const now = new Date(this.clock.now());
    const state = silenceState(s, now);
    if (state === 'expired') throw new NotifierError('SILENCE_INVALID', `silence ${id} already expired`);
    await this.repo.save({ ...s, startsAt: state === 'pending' ? now : s.startsAt, endsAt: now, updatedAt: now });
    await this.load();
  }

  async list(): Promise<Silence[]> {
    return this.load();
  }
}
