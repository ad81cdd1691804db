/**
 * The one wording of file-system failures used in spool's messages, e.g.
 * `Cannot open tape 'x.jsonl': no such file or directory`.
 *
 * @module
 */

import { errorMessage } from "./error_message.ts";

/** Reasons by errno code: Deno has error classes for only some of them. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EEXIST: "file exists",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EROFS: "read-only file system",
  EMFILE: "too many open files",
};

/**
 * A file-system error as a short lower-case reason, to follow
 * `Cannot <do something> '<path>': `. Known failures get a fixed wording
 * ("no such file or directory", "permission denied", "is a directory",
 * "not a directory", "no space left on device", "file exists", "too many
 * levels of symbolic links", "file name too long", ...); a permission Deno
 * was not granted names its flag; anything else is the OS message without
 * Deno's ` (os error N): <call> '<path>'` tail.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ioReason } from "./io_reason.ts";
 * const error = await Deno.readTextFile("/nonexistent/x.jsonl").catch((e) => e);
 * assert.equal(ioReason(error), "no such file or directory");
 * assert.equal(ioReason(new Error("No space left on device (os error 28)")), "no space left on device");
 * ```
 */
export function ioReason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return REASONS.ENOENT!;
  if (error instanceof Deno.errors.PermissionDenied) return REASONS.EACCES!;
  if (error instanceof Deno.errors.IsADirectory) return REASONS.EISDIR!;
  if (error instanceof Deno.errors.NotADirectory) return REASONS.ENOTDIR!;
  if (error instanceof Deno.errors.AlreadyExists) return REASONS.EEXIST!;
  if (error instanceof Deno.errors.FilesystemLoop) return REASONS.ELOOP!;
  if (error instanceof Deno.errors.NotCapable) {
    // "Requires read access to "x", run again with the --allow-read flag"
    const flag = /--allow-([a-z]+)/.exec(error.message)?.[1];
    return flag === undefined
      ? "access not granted to this program"
      : `${flag} access not granted (--allow-${flag})`;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && Object.hasOwn(REASONS, code)) return REASONS[code]!;
  const message = errorMessage(error);
  const text = message.replace(/ \(os error \d+\).*$/s, "");
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * Whether a file-system error means the disk (or the user's quota) is full:
 * retrying elsewhere or freeing space helps, fixing the input does not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDiskFull } from "./io_reason.ts";
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * assert.equal(isDiskFull(full), true);
 * assert.equal(isDiskFull(new Error("No space left on device (os error 28): write 'x'")), true);
 * assert.equal(isDiskFull(Object.assign(new Error("Cannot grow 'q/1.seg'"), { errno: 28 })), true);
 * assert.equal(isDiskFull(new Deno.errors.NotFound("x")), false);
 * ```
 */
export function isDiskFull(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  if (code === "ENOSPC" || code === "EDQUOT" || errno === 28 || errno === 122) return true;
  const message = errorMessage(error);
  return /\(os error (28|122)\)/.test(message);
}

/** What Deno's operation names in its error messages mean, in words. */
const OPERATIONS: Readonly<Record<string, string>> = {
  open: "open",
  stat: "access",
  lstat: "access",
  readdir: "read directory",
  readfile: "read",
  writefile: "write",
  mkdir: "create directory",
  remove: "remove",
  rename: "rename",
  copy: "copy",
  chmod: "change the mode of",
  truncate: "truncate",
  realpath: "resolve",
  symlink: "create link",
};

/**
 * Whether an error is the file system's own, as Deno raises it (one of
 * `Deno.errors`, or an error with an errno code such as `ENOSPC`), rather
 * than one of spool's errors that already say what went wrong in its words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOsError } from "./io_reason.ts";
 * assert.equal(isOsError(new Deno.errors.NotFound("x")), true);
 * assert.equal(isOsError(Object.assign(new Error("No space"), { code: "ENOSPC" })), true);
 * assert.equal(isOsError(new TypeError("Option 'x' is wrong")), false);
 * ```
 */
export function isOsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (Object.values(Deno.errors).some((cls) => error instanceof cls)) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

/**
 * A file-system error as one sentence in spool's wording, naming the path
 * the failed call was given: `Cannot write '/q/writer.lock': no space left
 * on device` for Deno's `No space left on device (os error 28): writefile
 * '/q/writer.lock'`. Without a path in the message: the reason alone,
 * capitalized.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ioMessage } from "./io_reason.ts";
 * try {
 *   await Deno.readDir("/nonexistent/q")[Symbol.asyncIterator]().next();
 * } catch (error) {
 *   assert.equal(ioMessage(error), "Cannot read directory '/nonexistent/q': no such file or directory");
 * }
 * assert.equal(ioMessage(new Error("Is a directory (os error 21)")), "Is a directory");
 * ```
 */
export function ioMessage(error: unknown): string {
  const reason = ioReason(error);
  const message = errorMessage(error);
  const call = /\(os error \d+\): (\w+) '(.*?)'(?: -> '.*')?$/s.exec(message);
  if (call === null) return reason.charAt(0).toUpperCase() + reason.slice(1);
  const operation = OPERATIONS[call[1]!] ?? "use";
  return `Cannot ${operation} '${call[2]}': ${reason}`;
}
