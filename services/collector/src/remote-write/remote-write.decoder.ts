import { compress, uncompress } from 'snappyjs';
import { CollectorError } from '../errors';
import { WriteRequestType, type DecodedWriteRequest } from './remote-write.proto';

/** A remote_write 1.0 body: snappy block format around a prometheus.WriteRequest. */
export function decodeWriteRequest(body: Uint8Array): DecodedWriteRequest {
  let raw: Uint8Array;
  try {
    raw = uncompress(body);
  } catch (err) {
    throw new CollectorError('BODY_INVALID', `remote_write body is not snappy-compressed (block format): ${(err as Error).message}`);
  }
  try {
    const msg = WriteRequestType.decode(raw);
    return WriteRequestType.toObject(msg, { longs: Number, defaults: true, arrays: true }) as DecodedWriteRequest;
  } catch (err) {
    throw new CollectorError('BODY_INVALID', `remote_write body is not a prometheus.WriteRequest: ${(err as Error).message}`);
  }
}

/** The inverse, for tests and tools that play a remote_write client. */
export function encodeWriteRequest(req: DecodedWriteRequest): Uint8Array {
  return compress(WriteRequestType.encode(WriteRequestType.fromObject(req)).finish());
}
