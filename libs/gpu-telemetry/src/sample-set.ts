import type { MetricsBatchSeries } from '@arcwatch/contracts';
import { writeExposition, type MetricFamily, type Sample } from '@arcwatch/exposition';

export type FamilyType = 'gauge' | 'counter';

/**
 * Samples grouped by family in the order first seen, so that one reading turns into exposition
 * text (the CLI) or into batch series (the agent) the same way. No family is written twice.
 */
export class SampleSet {
  private readonly familyIndex = new Map<string, number>();
  private readonly fams: MetricFamily[] = [];
  private readonly byFamily: Array<Array<{ labels: Record<string, string>; value: number }>> = [];

  add(name: string, type: FamilyType, help: string, labels: Record<string, string>, value: number): void {
    let i = this.familyIndex.get(name);
    if (i === undefined) {
      i = this.fams.length;
      this.familyIndex.set(name, i);
      this.fams.push({ name, type, help });
      this.byFamily.push([]);
    }
    this.byFamily[i]!.push({ labels, value });
  }

  addAll(other: SampleSet): void {
    other.fams.forEach((f, i) => {
      for (const s of other.byFamily[i]!) this.add(f.name, f.type as FamilyType, f.help ?? '', s.labels, s.value);
    });
  }

  get size(): number {
    let n = 0;
    for (const f of this.byFamily) n += f.length;
    return n;
  }

  families(): MetricFamily[] {
    return this.fams.map((f) => ({ ...f }));
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    this.byFamily.forEach((list, family) => {
      for (const s of list) out.push({ name: this.fams[family]!.name, labels: s.labels, value: s.value, family });
    });
    return out;
  }

  /** Prometheus text 0.0.4 (what dcgm-exporter serves). */
  toExposition(): string {
    return writeExposition(this.families(), this.samples(), 'prometheus');
  }

  /** Series of a metrics batch: full label sets with `__name__`, one sample each at `timeMs`. */
  toBatchSeries(timeMs: number, extraLabels: Record<string, string> = {}): MetricsBatchSeries[] {
    return this.samples().map((s) => ({
      labels: { __name__: s.name, ...s.labels, ...extraLabels },
      samples: [[timeMs, s.value]],
    }));
  }

  metadata(): Array<{ metric: string; type: FamilyType; help?: string }> {
    return this.fams.map((f) => ({ metric: f.name, type: f.type as FamilyType, ...(f.help ? { help: f.help } : {}) }));
  }
}
