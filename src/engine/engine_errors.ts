/**
 * The engine's errors, by meaning: the source failed, the consumer
 * cancelled, the engine was used after it closed, a seek was asked of a
 * source that cannot seek, a child process ended badly. Each carries the
 * name of the source it is about.
 *
 * @module
 */

import { errorMessage } from "../tape/error_message.ts";

/**
 * The source failed: it threw, its stream errored or its process exited
 * badly. Every item it produced before the failure was delivered first; the
 * original error is the `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SourceError } from "./engine_errors.ts";
 * const e = new SourceError("feed", new Error("connection reset"));
 * assert.equal(e.message, "Source 'feed' failed: connection reset");
 * assert.equal(e.source, "feed");
 * assert.equal((e.cause as Error).message, "connection reset");
 * ```
 */
export class SourceError extends Error {
  /** Name of the source that failed. */
  readonly source: string;

  /** Wraps `cause`, the source's own error. */
  constructor(source: string, cause: unknown) {
    super(`Source '${source}' failed: ${errorMessage(cause, { firstLine: true })}`, { cause });
    this.name = "SourceError";
    this.source = source;
  }
}

/**
 * The engine's `AbortSignal` was aborted. The abort reason is the `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CancelledError } from "./engine_errors.ts";
 * const e = new CancelledError("feed", new Error("user pressed Ctrl-C"));
 * assert.equal(e.message, "Engine reading 'feed' was cancelled: user pressed Ctrl-C");
 * ```
 */
export class CancelledError extends Error {
  /** Name of the engine's source. */
  readonly source: string;

  /** Builds the error from the source name and the abort reason. */
  constructor(source: string, reason?: unknown) {
    super(
      reason === undefined
        ? `Engine reading '${source}' was cancelled`
        : `Engine reading '${source}' was cancelled: ${errorMessage(reason, { firstLine: true })}`,
      { cause: reason },
    );
    this.name = "CancelledError";
    this.source = source;
  }
}

/**
 * The engine was used after it closed: it ended, failed, was stopped or
 * cancelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EngineClosedError } from "./engine_errors.ts";
 * assert.equal(new EngineClosedError("feed").message, "Engine reading 'feed' is closed");
 * ```
 */
export class EngineClosedError extends Error {
  /** Name of the engine's source. */
  readonly source: string;

  /** Builds the error from the source name. */
  constructor(source: string) {
    super(`Engine reading '${source}' is closed`);
    this.name = "EngineClosedError";
    this.source = source;
  }
}

/**
 * A seek was asked of a source that cannot seek (a pipe, a child process).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeekUnsupportedError } from "./engine_errors.ts";
 * const e = new SeekUnsupportedError("stdin");
 * assert.ok(e instanceof TypeError);
 * assert.equal(e.message, "Source 'stdin' cannot seek");
 * ```
 */
export class SeekUnsupportedError extends TypeError {
  /** Name of the source. */
  readonly source: string;

  /** Builds the error from the source name. */
  constructor(source: string) {
    super(`Source '${source}' cannot seek`);
    this.name = "SeekUnsupportedError";
    this.source = source;
  }
}

/**
 * A child process exited with a status other than 0, or was killed by a
 * signal it was not sent by the engine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessExitError } from "./engine_errors.ts";
 * assert.equal(new ProcessExitError("grep", 2, null).message, "Command 'grep' exited with status 2");
 * assert.equal(new ProcessExitError("sh", 137, "SIGKILL").message, "Command 'sh' was killed by 'SIGKILL'");
 * ```
 */
export class ProcessExitError extends Error {
  /** The command that was run. */
  readonly command: string;
  /** Its exit status (128 plus the signal number when a signal ended it). */
  readonly code: number;
  /** The signal that ended it, if one did. */
  readonly signal: Deno.Signal | null;

  /** Builds the error from the command and how it ended. */
  constructor(command: string, code: number, signal: Deno.Signal | null) {
    super(
      signal === null
        ? `Command '${command}' exited with status ${code}`
        : `Command '${command}' was killed by '${signal}'`,
    );
    this.name = "ProcessExitError";
    this.command = command;
    this.code = code;
    this.signal = signal;
  }
}
