/**
 * `arcwatch` — the command line. Each subcommand lives in its own module and registers here.
 * Returns the process exit code.
 */
export type Command = (args: string[], io: CliIo) => Promise<number>;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const COMMANDS: Record<string, Record<string, () => Promise<Command>>> = {};

/** Registers `arcwatch <group> <name>`; the loader keeps start-up fast by importing lazily. */
export function registerCommand(group: string, name: string, load: () => Promise<Command>): void {
  (COMMANDS[group] ??= {})[name] = load;
}

const stdio: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export async function main(argv: string[], io: CliIo = stdio): Promise<number> {
  await import('./commands');
  const [group, name, ...rest] = argv;
  let load = group && name ? COMMANDS[group]?.[name] : undefined;
  let args = rest;
  // A group that is a command by itself (`arcwatch agent --once`) is registered with the name ''.
  if (!load && group && COMMANDS[group]?.[''] && (name === undefined || name.startsWith('-'))) {
    load = COMMANDS[group]['']!;
    args = name === undefined ? [] : [name, ...rest];
  }
  if (!load) {
    io.err('usage: arcwatch <command> [options]\n\ncommands:');
    for (const [g, cmds] of Object.entries(COMMANDS))
      for (const n of Object.keys(cmds)) io.err(`  arcwatch ${g}${n ? ` ${n}` : ''}`);
    return 2;
  }
  const cmd = await load();
  return cmd(args, io);
}
