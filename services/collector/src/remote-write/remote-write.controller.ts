import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { Roles } from '@arcwatch/access';
import { CollectorError } from '../errors';
import { RemoteWriteService } from './remote-write.service';

/** Push only: an ingest token (or admin), sent by Prometheus with remote_write's `authorization`. */
@Roles('ingest')
@Controller('api/v1')
export class RemoteWriteController {
  constructor(private readonly remoteWrite: RemoteWriteService) {}

  /** 204 once every batch is in JetStream; 400 (not retried by Prometheus) for a body that cannot be read. */
  @Post('write')
  @HttpCode(204)
  async write(@Body() body: unknown, @Headers('content-encoding') encoding: string | undefined): Promise<void> {
    if (!Buffer.isBuffer(body))
      throw new CollectorError(
        'BODY_INVALID',
        'remote_write expects a snappy-compressed protobuf body (Content-Type: application/x-protobuf)',
      );
    if (encoding !== undefined && encoding.toLowerCase() !== 'snappy')
      throw new CollectorError(
        'BODY_INVALID',
        `unsupported Content-Encoding "${encoding}" (remote_write 1.0 uses snappy)`,
      );
    await this.remoteWrite.write(body);
  }
}
