/**
 * Failures of the server command a verify run starts.
 *
 * @module
 */

/**
 * The server command could not be started, or stopped before the run was
 * over. Carries the command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerProcessError } from "./server_process_error.ts";
 * const e = new ServerProcessError("Cannot start server 'nope': no such command", ["nope"]);
 * assert.deepEqual(e.command, ["nope"]);
 * ```
 */
export class ServerProcessError extends Error {
  /** The server command line. */
  readonly command: readonly string[];

  /** Builds the error. */
  constructor(message: string, command: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = "ServerProcessError";
    this.command = command;
  }
}
