/**
 * Warnings and infos attached to a query result, rendered as the Prometheus API does: the text
 * followed by the line:column of the expression they are about.
 */
import type { PosRange } from './ast';
import { positionOf } from './errors';

export class Annotations {
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();

  constructor(private readonly query: string) {}

  warn(text: string, pos: PosRange): void {
    this.warnings.add(`PromQL warning: ${text}${this.where(pos)}`);
  }

  info(text: string, pos: PosRange): void {
    this.infos.add(`PromQL info: ${text}${this.where(pos)}`);
  }

  private where(pos: PosRange): string {
    const p = positionOf(this.query, pos.start);
    return ` (${p.line}:${p.column})`;
  }
}
