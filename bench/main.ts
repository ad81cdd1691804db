/**
 * Runs the benchmarks: every `bench/*_bench.ts`, or only those named on the
 * command line (`deno task bench tape_write`). Each runs in its own process
 * so one bench's garbage and JIT state never colour another's figures.
 *
 * @module
 */

const here = new URL(".", import.meta.url).pathname;
const all = [...Deno.readDirSync(here)]
  .map((e) => e.name)
  .filter((n) => n.endsWith("_bench.ts"))
  .map((n) => n.slice(0, -"_bench.ts".length))
  .sort();
const wanted = Deno.args.length === 0 ? all : Deno.args;
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`bench: no benchmark named '${unknown[0]}' (have: ${all.join(", ")})`);
  Deno.exit(2);
}
let failed = 0;
for (const name of wanted) {
  console.log(`\n## ${name}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      "--allow-net",
      `${here}${name}_bench.ts`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    console.error(`bench: ${name} failed with status ${status.code}`);
    failed++;
  }
}
Deno.exit(failed === 0 ? 0 : 1);
