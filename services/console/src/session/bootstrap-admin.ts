import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ACCESS_SERVICE, type AccessService } from '@arcwatch/access';
import { InjectLogger, type Logger } from '@arcwatch/runtime';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';

/** Where the first admin token is printed (stdout by default; tests capture it). */
export const ADMIN_TOKEN_SINK = Symbol('ADMIN_TOKEN_SINK');
export type AdminTokenSink = (line: string) => void;

/**
 * A first admin token: the configured CONSOLE_BOOTSTRAP_ADMIN_TOKEN, made valid at every start;
 * or, when none is configured and no admin token exists yet, a new one printed once (it is not
 * stored anywhere but as its hash, so it cannot be shown again).
 */
@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  constructor(
    @Inject(ACCESS_SERVICE) private readonly access: AccessService,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(ADMIN_TOKEN_SINK) private readonly print: AdminTokenSink,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.bootstrapAdminToken) {
      const t = await this.access.ensureToken(
        this.config.bootstrapAdminToken,
        'admin',
        'bootstrap admin (CONSOLE_BOOTSTRAP_ADMIN_TOKEN)',
      );
      this.logger.info(
        { tokenId: t.id, hint: t.hint },
        'bootstrap admin token from CONSOLE_BOOTSTRAP_ADMIN_TOKEN is valid',
      );
      return;
    }
    const issued = await this.access.bootstrapAdmin();
    if (!issued) return;
    this.logger.info(
      { tokenId: issued.info.id, hint: issued.info.hint },
      'created the first admin token (printed once on stdout)',
    );
    this.print(`ArcWatch console: first admin token (shown once, keep it): ${issued.token}\n`);
  }
}
