/**
 * Keeps one core busy while a bench runs a variant, as on any real host
 * where the program measured is not alone: another process spins in a loop.
 *
 * @module
 */

/**
 * Runs `run` while a child process spins on one core, and stops that child
 * afterwards, also when `run` throws.
 */
export async function withBusyCore<T>(run: () => Promise<T>): Promise<T> {
  const spinner = new Deno.Command(Deno.execPath(), {
    args: ["eval", "for (;;) {}"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Long enough for the child's V8 to start and reach its loop.
    await new Promise((r) => setTimeout(r, 300));
    return await run();
  } finally {
    spinner.kill("SIGKILL");
    await spinner.status;
  }
}
