/**
 * Shell completion scripts generated from a program's own option table, so
 * completions never drift from what the parser accepts.
 *
 * @module
 */

import type { Command, Option } from "@commander-js/extra-typings";

/**
 * Shells a completion script can be generated for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SHELLS } from "./_completions.ts";
 * assert.deepEqual(SHELLS, ["bash", "zsh", "fish"]);
 * ```
 */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** One of {@linkcode SHELLS}. */
export type Shell = typeof SHELLS[number];

interface OptionInfo {
  long: string | undefined;
  short: string | undefined;
  description: string;
  takesValue: boolean;
  choices: readonly string[] | undefined;
}

// The typed Command is generic over its options; completions only read the
// untyped option table, so accept any instantiation.
// deno-lint-ignore no-explicit-any
type AnyCommand = Command<any, any, any>;

function optionsOf(command: AnyCommand): OptionInfo[] {
  const options: OptionInfo[] = command.options.map((o: Option) => ({
    long: o.long,
    short: o.short,
    description: o.description,
    takesValue: o.required || o.optional,
    choices: o.argChoices,
  }));
  options.push({
    long: "--help",
    short: "-h",
    description: "display help for command",
    takesValue: false,
    choices: undefined,
  });
  return options;
}

function quoteSingle(text: string): string {
  return text.replaceAll("'", "'\\''");
}

function bash(name: string, options: OptionInfo[]): string {
  const fn = `_spool_${name.replaceAll("-", "_")}`;
  const words = options.flatMap((o) => [o.long, o.short].filter((w) => w !== undefined));
  const cases = options
    .filter((o) => o.choices !== undefined && o.long !== undefined)
    .map((o) =>
      `    ${o.long}) COMPREPLY=( $(compgen -W '${o.choices!.join(" ")}' -- "$cur") ); return ;;`
    );
  return [
    `# bash completion for ${name}; load with: source <(${name} --completions bash)`,
    `${fn}() {`,
    `  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"`,
    `  case "$prev" in`,
    ...cases,
    `  esac`,
    `  if [[ "$cur" == -* ]]; then`,
    `    COMPREPLY=( $(compgen -W '${words.join(" ")}' -- "$cur") )`,
    `  else`,
    `    COMPREPLY=( $(compgen -f -- "$cur") )`,
    `  fi`,
    `}`,
    `complete -o filenames -F ${fn} ${name}`,
    "",
  ].join("\n");
}

function zsh(name: string, options: OptionInfo[]): string {
  const specs = options.map((o) => {
    const description = quoteSingle(o.description.replaceAll("[", "(").replaceAll("]", ")"));
    const value = o.choices !== undefined
      ? `:value:(${o.choices.join(" ")})`
      : o.takesValue
      ? ":value:_files"
      : "";
    const flags = [o.short, o.long].filter((f) => f !== undefined);
    return flags.length > 1
      ? `  '(${flags.join(" ")})'{${flags.join(",")}}'[${description}]${value}' \\`
      : `  '${flags[0]}[${description}]${value}' \\`;
  });
  return [
    `#compdef ${name}`,
    `# zsh completion for ${name}; load with: source <(${name} --completions zsh)`,
    `_spool_${name.replaceAll("-", "_")}() {`,
    `  _arguments \\`,
    ...specs.map((s) => `  ${s}`),
    `    '*:file:_files'`,
    `}`,
    `compdef _spool_${name.replaceAll("-", "_")} ${name}`,
    "",
  ].join("\n");
}

function fish(name: string, options: OptionInfo[]): string {
  const lines = options.map((o) => {
    const parts = [`complete -c ${name}`];
    if (o.long !== undefined) parts.push(`-l ${o.long.slice(2)}`);
    if (o.short !== undefined) parts.push(`-s ${o.short.slice(1)}`);
    if (o.takesValue) parts.push("-r");
    if (o.choices !== undefined) parts.push(`-f -a '${o.choices.join(" ")}'`);
    parts.push(`-d '${quoteSingle(o.description)}'`);
    return parts.join(" ");
  });
  return [
    `# fish completion for ${name}; load with: ${name} --completions fish | source`,
    ...lines,
    "",
  ].join("\n");
}

/**
 * Generates the completion script of a command for a shell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Command } from "@commander-js/extra-typings";
 * import { completionScript } from "./_completions.ts";
 * const cmd = new Command("tail").option("-n, --lines <n>", "how many");
 * const script = completionScript(cmd, "fish");
 * assert.ok(script.includes("complete -c tail -l lines -s n -r -d 'how many'"));
 * ```
 */
export function completionScript(command: AnyCommand, shell: Shell): string {
  const options = optionsOf(command);
  switch (shell) {
    case "bash":
      return bash(command.name(), options);
    case "zsh":
      return zsh(command.name(), options);
    case "fish":
      return fish(command.name(), options);
  }
}
