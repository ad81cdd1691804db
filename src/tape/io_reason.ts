/**
 * The one wording of file-system failures used in spool's messages, e.g.
 * `Cannot open tape 'x.jsonl': no such file or directory`.
 *
 * @module
 */

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
 * import { ioReason } from "./io_reason.ts";
 * try {
 *   await Deno.readTextFile("/nonexistent/x.jsonl");
 * } catch (error) {
 *   console.log(ioReason(error)); // "no such file or directory"
 * }
 * console.log(ioReason(new Error("No space left on device (os error 28)"))); // "no space left on device"
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
  const message = error instanceof Error ? error.message : String(error);
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
 * assert.equal(isDiskFull(new Deno.errors.NotFound("x")), false);
 * ```
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return true;
  const message = error instanceof Error ? error.message : String(error);
  return /\(os error (28|122)\)/.test(message);
}
