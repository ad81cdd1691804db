/**
 * Every `@example` in src/ and cli/ asserts what it shows (with
 * `node:assert/strict`), so `deno test --doc` fails when an example goes
 * stale. An example that only prints its result in a comment cannot fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

/** The code blocks of the `@example`s in a source file, with the line each starts on. */
function exampleBlocks(text: string): { line: number; code: string }[] {
  const lines = text.split("\n");
  const blocks: { line: number; code: string }[] = [];
  let inExample = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^\s*\* ?/, "");
    if (line.startsWith("@example")) inExample = true;
    else if (line.startsWith("@") || lines[i]!.includes("*/")) inExample = false;
    if (!inExample || !/^```ts\s*$/.test(line)) continue;
    const start = i;
    const code: string[] = [];
    for (i++; i < lines.length && !lines[i]!.replace(/^\s*\* ?/, "").startsWith("```"); i++) {
      code.push(lines[i]!.replace(/^\s*\* ?/, ""));
    }
    blocks.push({ line: start + 1, code: code.join("\n") });
  }
  return blocks;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("every example in src/ and cli/ asserts what it shows", () => {
  const silent: string[] = [];
  let examples = 0;
  for (const dir of ["src", "cli"]) {
    for (const path of sourceFiles(`${ROOT}${dir}`)) {
      for (const block of exampleBlocks(Deno.readTextFileSync(path))) {
        examples++;
        const asserts = /\bassert(\.\w+)?\(/.test(block.code) &&
          block.code.includes('from "node:assert/strict"');
        const printsResult = /console\.log\(.*\/\/ /.test(block.code);
        if (!asserts || printsResult) silent.push(`${path.slice(ROOT.length)}:${block.line}`);
      }
    }
  }
  assert.ok(examples > 250, `found ${examples} examples`);
  assert.deepEqual(silent, [], "examples that print instead of asserting");
});

Deno.test("the example finder sees an example that only prints", () => {
  const text = [
    "/**",
    " * Doubles.",
    " *",
    " * @example",
    " * ```ts",
    " * console.log(double(2)); // 4",
    " * ```",
    " */",
  ].join("\n");
  const blocks = exampleBlocks(text);
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0]!.code, "console.log(double(2)); // 4");
});
