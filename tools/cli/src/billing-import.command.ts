import { createReadStream, statSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import type { CliIo, Command } from './main';

const USAGE = `usage: arcwatch billing import FILE.csv [--url URL] [--currency CODE] [--reconcile]

Sends a FOCUS (1.0–1.2) cost and usage CSV to the billing service, streamed, with a progress bar
on stderr; prints the import's summary and every rejected row (line and reason) on stdout.

  --url URL         the billing service (default: $BILLING_URL or http://127.0.0.1:8083)
  --currency CODE   BillingCurrency for files without that column
  --reconcile       reconcile the allocation to this invoice afterwards and print the result

The billing API needs an admin token: $ARCWATCH_TOKEN (kept out of argv, which every user of the
machine can read).

Importing the same file again changes nothing (the answer says new: false). Exit status: 0 every
row imported, 1 some rows rejected, 2 usage, file or service errors.`;

export const command: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        currency: { type: 'string' },
        reconcile: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: opts, positionals } = parsed;
  if (opts.help) {
    io.err(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    io.err(USAGE);
    return 2;
  }
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    io.err(`${file}: ${(err as Error).message}`);
    return 2;
  }
  const base = (opts.url ?? process.env.BILLING_URL ?? 'http://127.0.0.1:8083').replace(/\/$/, '');
  const url = `${base}/api/v1/invoices${opts.currency ? `?currency=${encodeURIComponent(opts.currency)}` : ''}`;

  const auth: Record<string, string> = process.env.ARCWATCH_TOKEN
    ? { authorization: `Bearer ${process.env.ARCWATCH_TOKEN}` }
    : {};
  let sent = 0;
  const bar = progress(io, size);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      bar(sent);
      done(null, chunk);
    },
  });
  let res: Response;
  try {
    const body = Readable.toWeb(createReadStream(file).pipe(counter)) as ReadableStream<Uint8Array>;
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...auth },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
  } catch (err) {
    io.err(`\n${url}: ${(err as Error).message}`);
    return 2;
  }
  bar(size, true);
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    io.err(`${url}: ${res.status} ${String(answer.code ?? '')} ${String(answer.message ?? '')}`.trim());
    return 2;
  }
  const rejects = (answer.rejects as Array<{ lineNo: number; reason: string }> | undefined) ?? [];
  io.out(
    JSON.stringify({
      importId: answer.importId,
      new: answer.new,
      rows: answer.rows,
      lines: answer.lines,
      newLines: answer.newLines,
      rejects: rejects.length,
    }),
  );
  for (const r of rejects) io.out(JSON.stringify({ reject: { file, lineNo: r.lineNo, reason: r.reason } }));
  if (opts.reconcile) {
    const rec = await fetch(`${base}/api/v1/invoices/${String(answer.importId)}/reconciliation`, {
      method: 'POST',
      headers: auth,
    });
    const summary = (await rec.json().catch(() => ({}))) as Record<string, unknown>;
    if (!rec.ok) {
      io.err(`reconciliation: ${rec.status} ${String(summary.message ?? '')}`);
      return 2;
    }
    io.out(JSON.stringify({ reconciliation: summary }));
  }
  return rejects.length > 0 ? 1 : 0;
};

/** A one-line progress bar on stderr, redrawn in place on a terminal and every 10% otherwise. */
function progress(io: CliIo, total: number): (done: number, final?: boolean) => void {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  return (done, final = false) => {
    const frac = total === 0 ? 1 : Math.min(1, done / total);
    const tenth = Math.floor(frac * 10);
    if (!final && !tty && tenth === lastTenth) return;
    lastTenth = tenth;
    const width = 30;
    const filled = Math.round(frac * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} bytes`;
    if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
    else if (final || tenth !== 10) io.err(line);
  };
}
