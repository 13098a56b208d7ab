import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Matcher, Silence } from '@arcwatch/alertmanager';
import { InjectPool } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { isStorableText } from '../storable-text';

interface Row {
  id: string;
  matcher_sets: Matcher[][];
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  comment: string;
  updated_at: Date;
}

const toSilence = (r: Row): Silence => ({
  id: r.id,
  matcherSets: r.matcher_sets,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  createdBy: r.created_by,
  comment: r.comment,
  updatedAt: r.updated_at,
});

@Injectable()
export class SilencesRepository {
  private readonly t: string;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
  ) {
    this.t = `${config.dbSchema}.silences`;
  }

  async save(s: Silence): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t} (id, matcher_sets, starts_at, ends_at, created_by, comment, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET matcher_sets = EXCLUDED.matcher_sets, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
         created_by = EXCLUDED.created_by, comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at`,
      [
        s.id,
        JSON.stringify(s.matcherSets),
        s.startsAt.toISOString(),
        s.endsAt.toISOString(),
        s.createdBy,
        s.comment,
        s.updatedAt.toISOString(),
      ],
    );
  }

  async all(): Promise<Silence[]> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.t} ORDER BY starts_at, id`);
    return rows.map(toSilence);
  }

  async get(id: string): Promise<Silence | undefined> {
    // No stored id is text PostgreSQL cannot keep, and it refuses to be asked for one.
    if (!isStorableText(id)) return undefined;
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.t} WHERE id = $1`, [id]);
    return rows[0] ? toSilence(rows[0]) : undefined;
  }
}
