/**
 * A Prometheus histogram as an exporter keeps it: per-bucket counts, a sum and a count, exposed
 * cumulatively so that every bucket includes the ones below it and +Inf equals _count.
 */
export class Histogram {
  private readonly perBucket: number[];
  private total = 0;
  private sumOfValues = 0;

  constructor(readonly bounds: readonly number[]) {
    this.perBucket = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Records `times` observations of `value` (an engine step of N tokens is N observations). */
  observe(value: number, times = 1): void {
    if (times <= 0 || !Number.isFinite(value)) return;
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.perBucket[i] += times;
    this.total += times;
    this.sumOfValues += value * times;
  }

  get count(): number {
    return this.total;
  }

  get sum(): number {
    return this.sumOfValues;
  }

  /** Cumulative counts, one per bound and a last one for +Inf. */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.perBucket) {
      acc += c;
      out.push(acc);
    }
    return out;
  }
}
