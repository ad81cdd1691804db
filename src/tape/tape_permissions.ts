/**
 * Permission bits of what a tape writer creates. A tape holds what
 * crossed the wire (requests, answers, tokens that were not redacted), so
 * it is kept as shell history and ssh keys are: readable by its owner
 * only. The bits are asked for when a file or directory is created; the
 * umask may take more away, and nothing existing is ever changed.
 *
 * @module
 */

/**
 * Permission bits of a new tape (`.jsonl`), of its `.meta.json` and of the
 * temporary file the meta file is written through: 0600.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TAPE_FILE_MODE } from "./tape_permissions.ts";
 * assert.equal(TAPE_FILE_MODE, 0o600);
 * ```
 */
export const TAPE_FILE_MODE = 0o600;

/**
 * Permission bits of a tapes directory a writer creates: 0700.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TAPE_DIRECTORY_MODE } from "./tape_permissions.ts";
 * assert.equal(TAPE_DIRECTORY_MODE, 0o700);
 * ```
 */
export const TAPE_DIRECTORY_MODE = 0o700;
