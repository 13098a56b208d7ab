import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { requestCompletedV1Schema, formatZodError } from '@arcwatch/contracts';
import {
  ALLOCATION_METHODS,
  DEFAULT_WINDOW_MS,
  IDLE_POLICIES,
  allocate,
  costRequestFromRecord,
  formatMicro,
  loadInventory,
  loadPriceCatalog,
  type AllocationMethod,
  type CostRequest,
  type IdlePolicy,
} from '@arcwatch/cost';
import type { CliIo, Command } from './main';

const USAGE = `usage: arcwatch cost allocate --requests FILE.jsonl --inventory FILE.yaml --prices FILE.yaml [options]

Splits the GPU cost of each instance, window by window, over the requests that ran on it, offline.
The requests file holds request records as \`arcwatch trace assemble\` prints them (one JSON object
per line); '-' reads standard input. Prints one allocation per line (JSON): window, instance,
tenant (or idle / unattributed), requestId, amountMicro (integer micro-units, as a string).

  --method time-share|tokens   time-share: 1/n(t) of the instance while n requests run (default);
                               tokens: by prefill and decode tokens (--prefill-weight, --decode-weight)
  --idle separate|shared       idle time kept apart for the pool owner, or shared back over the
                               window's requests (default: each pool's setting)
  --window SECONDS             allocation window (default ${DEFAULT_WINDOW_MS / 1000})
  --from TIME, --to TIME       span to allocate (default: the requests' span, whole windows)
  --summary                    one line per tenant / idle / unattributed with the totals instead

Every window's lines add up to its cost exactly. Lines that are not request records, and requests
without an instance or on an instance the inventory lacks, are reported on stderr. Exit status: 0
all used, 1 some skipped, 2 usage or file errors.`;

export const command: Command = async (args, io) => {
  let opts;
  try {
    opts = parseArgs({
      args,
      options: {
        requests: { type: 'string' },
        inventory: { type: 'string' },
        prices: { type: 'string' },
        method: { type: 'string', default: 'time-share' },
        idle: { type: 'string' },
        window: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'prefill-weight': { type: 'string' },
        'decode-weight': { type: 'string' },
        summary: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    io.err(USAGE);
    return 0;
  }
  if (!opts.requests || !opts.inventory || !opts.prices) {
    io.err(USAGE);
    return 2;
  }
  const method = opts.method as AllocationMethod;
  if (!ALLOCATION_METHODS.includes(method))
    return usageError(io, `--method: expected ${ALLOCATION_METHODS.join(' or ')}`);
  const idle = opts.idle as IdlePolicy | undefined;
  if (idle !== undefined && !IDLE_POLICIES.includes(idle))
    return usageError(io, `--idle: expected ${IDLE_POLICIES.join(' or ')}`);
  const windowS = opts.window === undefined ? DEFAULT_WINDOW_MS / 1000 : Number(opts.window);
  if (!Number.isFinite(windowS) || windowS <= 0 || !Number.isInteger(windowS * 1000))
    return usageError(io, '--window: a positive number of seconds');
  const fromMs = opts.from === undefined ? undefined : Date.parse(opts.from);
  const toMs = opts.to === undefined ? undefined : Date.parse(opts.to);
  if ((fromMs !== undefined && Number.isNaN(fromMs)) || (toMs !== undefined && Number.isNaN(toMs)))
    return usageError(io, '--from/--to: RFC 3339 times');

  let inventory;
  let catalog;
  try {
    inventory = loadInventory(opts.inventory);
    catalog = loadPriceCatalog(opts.prices);
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }

  const requests: CostRequest[] = [];
  let skipped = 0;
  try {
    const input = opts.requests === '-' ? process.stdin : createReadStream(opts.requests, 'utf8');
    let lineNo = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      if (line.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        skipped++;
        io.err(`${opts.requests}:${lineNo}: not JSON: ${(err as Error).message}`);
        continue;
      }
      const rec = requestCompletedV1Schema.safeParse(json);
      if (!rec.success) {
        skipped++;
        io.err(`${opts.requests}:${lineNo}: not a request record: ${formatZodError(rec.error)}`);
        continue;
      }
      const c = costRequestFromRecord(rec.data);
      if (!c.ok) {
        skipped++;
        io.err(`${opts.requests}:${lineNo}: ${rec.data.requestId}: ${c.reason}`);
        continue;
      }
      requests.push(c.request);
    }
  } catch (err) {
    io.err(`${opts.requests}: ${(err as Error).message}`);
    return 2;
  }

  let run;
  try {
    const range = fromMs !== undefined || toMs !== undefined ? rangeOf(requests, fromMs, toMs) : undefined;
    run = allocate(
      requests,
      inventory,
      catalog,
      {
        windowMs: windowS * 1000,
        method,
        ...(idle ? { idle } : {}),
        ...(opts['prefill-weight'] ? { prefillWeight: opts['prefill-weight'] } : {}),
        ...(opts['decode-weight'] ? { decodeWeight: opts['decode-weight'] } : {}),
      },
      range,
    );
  } catch (err) {
    io.err((err as Error).message);
    return 2;
  }
  for (const s of run.skipped) io.err(`${s.requestId}: ${s.reason}`);
  skipped += run.skipped.length;

  if (opts.summary) {
    const totals = new Map<string, { micro: bigint; requests: Set<string>; gpuMs: number; currency: string }>();
    for (const w of run.windows) {
      for (const l of w.lines) {
        const t = totals.get(l.tenant) ?? { micro: 0n, requests: new Set<string>(), gpuMs: 0, currency: l.currency };
        t.micro += l.amountMicro;
        t.gpuMs += l.gpuMs;
        if (l.requestId !== null) t.requests.add(l.requestId);
        totals.set(l.tenant, t);
      }
    }
    for (const tenant of [...totals.keys()].sort()) {
      const t = totals.get(tenant)!;
      io.out(
        JSON.stringify({
          tenant,
          amountMicro: t.micro.toString(),
          amount: formatMicro(t.micro),
          currency: t.currency,
          requests: t.requests.size,
          gpuSeconds: Math.round(t.gpuMs) / 1000,
        }),
      );
    }
  } else {
    for (const w of run.windows) {
      const window = new Date(w.windowStartMs).toISOString();
      for (const l of w.lines) {
        io.out(
          JSON.stringify({
            window,
            instance: l.instance,
            tenant: l.tenant,
            requestId: l.requestId,
            amountMicro: l.amountMicro.toString(),
            ...(l.idleShareMicro !== 0n ? { idleShareMicro: l.idleShareMicro.toString() } : {}),
            ...(l.idleOwner !== null ? { idleOwner: l.idleOwner } : {}),
            currency: l.currency,
          }),
        );
      }
    }
  }
  const total = run.windows.reduce((s, w) => s + w.costMicro, 0n);
  io.err(
    `${run.windows.length} window(s), ${requests.length - run.skipped.length} request(s), total ${formatMicro(total)}, method ${method}`,
  );
  return skipped > 0 ? 1 : 0;
};

function usageError(io: CliIo, message: string): number {
  io.err(`${message}\n\n${USAGE}`);
  return 2;
}

function rangeOf(
  requests: readonly CostRequest[],
  fromMs: number | undefined,
  toMs: number | undefined,
): { fromMs: number; toMs: number } {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of requests) {
    lo = Math.min(lo, r.startMs);
    hi = Math.max(hi, r.endMs);
  }
  return { fromMs: fromMs ?? lo, toMs: toMs ?? hi };
}
