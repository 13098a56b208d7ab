// Every subcommand, one line each: `registerCommand(group, name, () => import(...).then(m => m.command))`.
export {};
