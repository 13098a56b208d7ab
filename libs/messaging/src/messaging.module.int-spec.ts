import 'reflect-metadata';
import { SUBJECTS } from '@arcwatch/contracts';
import { testNamespace } from '@arcwatch/testing';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBus } from './event-bus';
import { MessagingModule } from './messaging.module';
import { deleteStreams, quietLogger, testEvent } from './testing/int-helpers';

jest.setTimeout(30_000);

@Injectable()
class Publisher {
  constructor(@Inject(EventBus) readonly bus: EventBus) {}
}

describe('MessagingModule (real NATS)', () => {
  const namespace = testNamespace();

  it('provides a connected EventBus with its streams, and drains it when the app closes', async () => {
    @Module({ providers: [Publisher] })
    class FeatureModule {}

    @Module({
      imports: [
        MessagingModule.forRootAsync({
          useFactory: () => ({ name: 'module-test', namespace, logger: quietLogger, streams: ['requests'] }),
        }),
        FeatureModule,
      ],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const bus = app.get(Publisher).bus;
    try {
      const ack = await bus.publish(SUBJECTS.requestEvents('t1'), testEvent('module-1', {}));
      expect(ack).toEqual({ seq: 1, duplicate: false });
      await deleteStreams(bus, ['requests']);
    } finally {
      await app.close();
    }
    expect(bus.nc.isClosed()).toBe(true);
  });
});
