import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool } from './spool';

/**
 * The spool on a disk that fills up, simulated with a 64 KiB tmpfs (mounting needs root and the
 * right to mount; elsewhere this is skipped, see `tmpfsMountable`). Defined behaviour: an append
 * the disk cannot take fails with ENOSPC, to the caller, and leaves what was spooled before
 * intact and readable in order, also after a restart (a half-written frame is cut off); once
 * delivered records free their segments, appends succeed again.
 */
/** Root on Linux with the right to mount (a container may be root without it). */
function tmpfsMountable(): boolean {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}
const canMount = tmpfsMountable();
const onTmpfs = canMount ? it : it.skip; // skipped: mounting a tmpfs needs root and the right to mount

describe('spool on a full disk', () => {
  let mount = '';

  beforeEach(() => {
    mount = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-spool-full-'));
    if (canMount) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  });

  afterEach(() => {
    if (canMount) execFileSync('umount', [mount]);
    fs.rmSync(mount, { recursive: true, force: true });
  });

  onTmpfs('refuses with ENOSPC, keeps what it had, and takes appends again once records are delivered', () => {
    const dir = path.join(mount, 'spool');
    const payload = (i: number) => Buffer.from(`${String(i).padStart(6, '0')}:${'x'.repeat(1_000)}`);
    let spool = Spool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 8 * 1024 });
    let written = 0;
    let error: NodeJS.ErrnoException | undefined;
    for (let i = 0; i < 200 && !error; i++) {
      try {
        spool.append(payload(i));
        written++;
      } catch (err) {
        error = err as NodeJS.ErrnoException;
      }
    }
    expect(error?.code).toBe('ENOSPC');
    expect(written).toBeGreaterThan(10);
    expect(spool.stats().pendingRecords).toBe(written);
    spool.close();

    // A restart reads back exactly what was spooled, in order.
    spool = Spool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 8 * 1024 });
    const back = spool.peek(1_000);
    expect(back.map((r) => r.payload.toString())).toEqual(
      Array.from({ length: written }, (_, i) => payload(i).toString()),
    );

    // Delivered: the full segments go, and the disk takes new records again.
    spool.ack(back[back.length - 1]);
    spool.append(payload(written));
    expect(spool.peek(10).map((r) => r.payload.toString())).toEqual([payload(written).toString()]);
    spool.close();
  });
});
