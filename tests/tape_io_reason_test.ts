import assert from "node:assert/strict";
import { ioReason } from "../src/tape/io_reason.ts";
import { TapeWriteError } from "../src/tape/tape_write_errors.ts";
import { readMeta } from "../src/tape/meta_file.ts";
import { TapeDirectory } from "../src/tape/tape_directory.ts";
import { tapeOpenError, TapeReader } from "../src/tape/tape_reader.ts";

async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

Deno.test("ioReason words real file-system failures one way", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool_io_reason_" });
  try {
    await Deno.writeTextFile(`${dir}/file`, "x");
    await Deno.symlink(`${dir}/loop2`, `${dir}/loop1`);
    await Deno.symlink(`${dir}/loop1`, `${dir}/loop2`);
    const cases: [string, () => unknown][] = [
      ["no such file or directory", () => Deno.stat(`${dir}/nope`)],
      ["is a directory", () => Deno.readTextFile(dir)],
      ["not a directory", () => Deno.stat(`${dir}/file/x`)],
      ["file exists", () => Deno.open(`${dir}/file`, { createNew: true, write: true })],
      ["too many levels of symbolic links", () => Deno.stat(`${dir}/loop1`)],
      ["file name too long", () => Deno.stat(`${dir}/${"n".repeat(300)}`)],
    ];
    for (const [reason, fn] of cases) assert.equal(ioReason(await failureOf(fn)), reason);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ioReason maps error classes and codes, and trims other OS messages", () => {
  assert.equal(ioReason(new Deno.errors.PermissionDenied("x")), "permission denied");
  assert.equal(
    ioReason(
      new Deno.errors.NotCapable(
        'Requires read access to "x", run again with the --allow-read flag',
      ),
    ),
    "read access not granted (--allow-read)",
  );
  const full = Object.assign(new Error("No space left on device (os error 28): write 'x'"), {
    code: "ENOSPC",
  });
  assert.equal(ioReason(full), "no space left on device");
  assert.equal(
    ioReason(new Error("No space left on device (os error 28)")),
    "no space left on device",
  );
  assert.equal(
    ioReason(new Error("Input/output error (os error 5): read 'x'")),
    "input/output error",
  );
  assert.equal(ioReason("Odd failure"), "odd failure");
});

Deno.test("the tape modules all use the same wording", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool_io_reason_" });
  try {
    const missing = `${dir}/nope.jsonl`;
    const reason = "no such file or directory";
    const open = await failureOf(() => TapeReader.open(missing));
    assert.equal((open as Error).message, `Cannot open tape '${missing}': ${reason}`);
    const meta = await failureOf(() => readMeta(`${dir}/nope.meta.json`));
    assert.equal(
      (meta as Error).message,
      `Cannot read tape meta '${dir}/nope.meta.json': ${reason}`,
    );
    const list = await failureOf(() => new TapeDirectory(`${dir}/none`).list());
    assert.equal((list as Error).message, `Cannot list tapes in '${dir}/none': ${reason}`);
    const write = new TapeWriteError("open tape", missing, new Deno.errors.NotFound("x"));
    assert.equal(write.message, `Cannot open tape '${missing}': ${reason}`);
    const loop = Object.assign(new Error("Too many levels of symbolic links (os error 40)"), {
      code: "ELOOP",
    });
    assert.equal(
      tapeOpenError("t.jsonl", loop).message,
      "Cannot open tape 't.jsonl': too many levels of symbolic links",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
