import {
  Inject,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { StreamKey } from '@arcwatch/contracts';
import { EventBus, type EventBusOptions, type StreamLimits } from './event-bus';

export interface MessagingModuleOptions extends EventBusOptions {
  /** Streams to ensure at start-up (the ones this service publishes to); none when omitted. */
  streams?: StreamKey[];
  streamLimits?: StreamLimits;
}

export interface MessagingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: InjectionToken[];
  useFactory: (...args: never[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
}

async function createBus(opts: MessagingModuleOptions): Promise<EventBus> {
  const bus = await EventBus.connect(opts);
  try {
    if (opts.streams?.length) await bus.ensureStreams(opts.streams, opts.streamLimits);
  } catch (err) {
    await bus.drain();
    throw err;
  }
  return bus;
}

/**
 * Provides one connected `EventBus` to the whole app (global), and drains it when the app shuts
 * down, after the rest of the app's onModuleDestroy hooks.
 */
@Module({})
export class MessagingModule implements OnApplicationShutdown {
  constructor(@Inject(EventBus) private readonly bus: EventBus) {}

  static forRoot(opts: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [{ provide: EventBus, useFactory: () => createBus(opts) }],
      exports: [EventBus],
    };
  }

  /** For options that come from the service's config provider. */
  static forRootAsync(opts: MessagingModuleAsyncOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: opts.imports ?? [],
      providers: [
        {
          provide: EventBus,
          inject: opts.inject ?? [],
          useFactory: async (...args: never[]) => createBus(await opts.useFactory(...args)),
        },
      ],
      exports: [EventBus],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.drain();
  }
}
