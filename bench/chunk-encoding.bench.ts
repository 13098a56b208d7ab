/**
 * Bytes per sample and speed of the chunk encodings over the reference fleet's history: every
 * series cut into aligned 2 h chunks, encoded as the store encodes them today (decimal where the
 * values allow, XOR otherwise) and as XOR alone, every chunk decoded back and compared bit for bit.
 *
 *   npm run bench:encoding -- [--nodes 25] [--hours 6] [--step 15]
 *
 * Prints a table per metric family; the figures are payload bytes (what the `data` column holds),
 * before any row, page or index overhead (bench:storage measures the table on disk).
 */
import os from 'node:os';
import { decodeChunk, encodeChunk, encodeXorChunk, isDecimalChunk } from '@arcwatch/storage';
import { benchArgs } from './support/args';
import { generateHistory } from './fleet-history';

const BUCKET_MS = 2 * 3_600_000;

interface Family {
  samples: number;
  xor: number;
  chosen: number;
  decimalChunks: number;
  chunks: number;
}

async function main(): Promise<void> {
  const args = benchArgs();
  const nodes = Number(args.get('nodes') ?? 25);
  const hours = Number(args.get('hours') ?? 6);
  const stepSec = Number(args.get('step') ?? 15);
  const endMs = Math.floor(Date.UTC(2026, 11, 1) / BUCKET_MS) * BUCKET_MS;
  const { labels, timestamps: ts, matrix: values, steps } = await generateHistory({ nodes, hours, stepSec, endMs });
  const S = labels.length;

  // the chunk boundaries: aligned 2 h buckets over the step grid
  const cuts: Array<[number, number]> = [];
  for (let k = 0; k < steps;) {
    const end = (Math.floor(ts[k]! / BUCKET_MS) + 1) * BUCKET_MS;
    let j = k;
    while (j < steps && ts[j]! < end) j++;
    cuts.push([k, j]);
    k = j;
  }

  const families = new Map<string, Family>();
  let encodeXorMs = 0;
  let encodeMs = 0;
  let decodeXorMs = 0;
  let decodeMs = 0;
  const outT = new Float64Array(steps);
  const outV = new Float64Array(steps);
  const outW = new Uint32Array(outV.buffer);
  for (let i = 0; i < S; i++) {
    const metric = labels[i]!.__name__!;
    const name = metric.replace(/_bucket$/, '_bucket (each le)');
    let fam = families.get(name);
    if (!fam) families.set(name, (fam = { samples: 0, xor: 0, chosen: 0, decimalChunks: 0, chunks: 0 }));
    const row = values.subarray(i * steps, (i + 1) * steps);
    const words = new Uint32Array(row.buffer, row.byteOffset, 2 * steps);
    for (const [a, b] of cuts) {
      const n = b - a;
      const t = ts.subarray(a, b);
      const w = words.subarray(2 * a, 2 * b);
      let t0 = performance.now();
      const xor = encodeXorChunk(t, w, n);
      encodeXorMs += performance.now() - t0;
      t0 = performance.now();
      const chosen = encodeChunk(t, w, n);
      encodeMs += performance.now() - t0;
      t0 = performance.now();
      decodeChunk(xor, n, outT, outW);
      decodeXorMs += performance.now() - t0;
      t0 = performance.now();
      decodeChunk(chosen, n, outT, outW);
      decodeMs += performance.now() - t0;
      for (let k = 0; k < n; k++) {
        if (outT[k] !== t[k] || outW[2 * k] !== w[2 * k] || outW[2 * k + 1] !== w[2 * k + 1])
          throw new Error(`${metric} #${i}: sample ${a + k} did not round-trip`);
      }
      fam.samples += n;
      fam.xor += xor.length;
      fam.chosen += chosen.length;
      fam.chunks += 1;
      if (isDecimalChunk(chosen)) fam.decimalChunks += 1;
    }
  }

  const total = { samples: 0, xor: 0, chosen: 0, decimalChunks: 0, chunks: 0 };
  const rows = [...families.entries()].sort((x, y) => y[1].xor - x[1].xor);
  const fmt = (bytes: number, samples: number): string => (bytes / samples).toFixed(2);
  console.log(
    `# ${nodes} nodes, ${S} series, ${hours} h at ${stepSec} s: ${S * steps} samples in ${S * cuts.length} chunks`,
  );
  console.log(
    `# ${os.cpus()[0]?.model ?? 'cpu'}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}\n`,
  );
  console.log('| metric | XOR B/sample | stored B/sample | decimal chunks |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, f] of rows) {
    console.log(
      `| ${name} | ${fmt(f.xor, f.samples)} | ${fmt(f.chosen, f.samples)} | ${f.decimalChunks} / ${f.chunks} |`,
    );
    for (const k of Object.keys(total) as Array<keyof Family>) total[k] += f[k];
  }
  console.log(
    `| **all** | **${fmt(total.xor, total.samples)}** | **${fmt(total.chosen, total.samples)}** | ${total.decimalChunks} / ${total.chunks} |`,
  );
  const rate = (ms: number): string => `${(((total.samples / ms) * 1e3) / 1e6).toFixed(1)} M samples/s`;
  console.log(`\nencode: XOR ${rate(encodeXorMs)}, as stored ${rate(encodeMs)}`);
  console.log(`decode: XOR ${rate(decodeXorMs)}, as stored ${rate(decodeMs)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
