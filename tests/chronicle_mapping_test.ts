/**
 * How segments are mapped: at a 2 MiB boundary, with huge pages asked for
 * where they cost nothing (an `ipc` writer, a reader of a sealed segment)
 * and not where they do (a `durable` writer, which would write 2 MiB back
 * at every sync), and never a byte changed by the mapping or by faulting
 * pages in ahead of the writer: past the writer's end a segment reads as
 * nothing, and a prepared segment as empty until it is written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { segmentName } from "../src/chronicle/format.ts";
import { MappedFile } from "../src/chronicle/mapped_file.ts";
import { Segment } from "../src/chronicle/segment.ts";
import { withQueueDir } from "./fixtures/chronicle_common.ts";

const MIB = 1024 * 1024;

interface Mapping {
  /** `rw-s` for a writer's mapping, `r--s` for a reader's. */
  perms: string;
  /** Resident bytes. */
  rss: number;
  /** The kernel's VmFlags; `hg` is MADV_HUGEPAGE. */
  flags: string[];
}

/** This process's mappings of `path`, from its smaps (read by `cat`: Deno lets only `--allow-all` read /proc/self). */
async function mappingsOf(path: string): Promise<Mapping[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${Deno.pid}/smaps`] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const found: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      current = line.endsWith(` ${path}`)
        ? { perms: line.split(" ")[1]!, rss: 0, flags: [] }
        : undefined;
      if (current !== undefined) found.push(current);
    } else if (current !== undefined && line.startsWith("Rss:")) {
      current.rss = Number(line.split(/\s+/)[1]) * 1024;
    } else if (current !== undefined && line.startsWith("VmFlags:")) {
      current.flags = line.split(/\s+/).slice(1);
    }
  }
  return found;
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Appends about `bytes` of 1000-byte records; returns how many. */
function fill(writer: QueueWriter, bytes: number): number {
  const payload = new Uint8Array(1000).fill(9);
  const records = Math.ceil(bytes / 1024);
  for (let i = 0; i < records; i++) writer.append(1, payload);
  return records;
}

Deno.test("a file of 2 MiB or more maps at a 2 MiB boundary, a smaller one anywhere; both write through to the file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    for (const size of [4 * MIB, 64 * 1024]) {
      const path = `${dir}/f${size}`;
      const file = MappedFile.open(path, { writable: true, createSize: size, alignHuge: true });
      if (size >= 2 * MIB) {
        assert.equal(Deno.UnsafePointer.value(file.pointer) % BigInt(2 * MIB), 0n);
      }
      file.adviseHugePages();
      file.bytes[0] = 1;
      file.bytes[size - 1] = 2;
      file.release();
      const back = Deno.readFileSync(path);
      assert.equal(back.length, size);
      assert.deepEqual([back[0], back[size - 1]], [1, 2]);
      assert.ok(isZero(back.subarray(1, size - 1)));
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("faulting pages in, with huge pages asked for, changes no byte of the file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/f`;
    const content = new Uint8Array(4 * MIB).map((_, i) => (i * 7 + 3) & 255);
    Deno.writeFileSync(path, content);
    const file = MappedFile.open(path, { writable: true, alignHuge: true });
    file.adviseHugePages();
    assert.equal(file.populate(0, file.size), true);
    assert.deepEqual(file.bytes, content);
    file.release();
    assert.deepEqual(Deno.readFileSync(path), content);
    // A preallocated file faulted in reads as zeros.
    const fresh = MappedFile.open(`${dir}/g`, {
      writable: true,
      createSize: 4 * MIB,
      alignHuge: true,
    });
    fresh.adviseHugePages();
    assert.equal(fresh.populate(0, fresh.size), true);
    assert.ok(isZero(fresh.bytes));
    fresh.release();
    // After release there is nothing left to fault in.
    assert.equal(fresh.populate(0, 4096), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an ipc writer asks for huge pages; a durable one does not, since a 2 MiB page is written back whole at every sync", async () => {
  for (const durability of ["ipc", "durable"] as const) {
    await withQueueDir(async (dir) => {
      const writer = await QueueWriter.open(dir, { segmentBytes: 4 * MIB, durability });
      try {
        writer.append(1, new Uint8Array(8));
        const [mapping] = await mappingsOf(`${dir}/${segmentName(0)}`);
        assert.ok(mapping !== undefined);
        assert.equal(mapping.flags.includes("hg"), durability === "ipc", mapping.flags.join(" "));
      } finally {
        writer.close();
      }
    });
  }
});

Deno.test("a reader asks for huge pages on a sealed segment only, never on the one still written", async () => {
  await withQueueDir(async (dir) => {
    const writer = await QueueWriter.open(dir, { segmentBytes: 4 * MIB, durability: "durable" });
    const records = fill(writer, 5 * MIB);
    assert.equal(writer.segmentIndex, 1);
    // Segment 0 is sealed when the reader maps it.
    const reader = await QueueReader.open(dir);
    try {
      const readOnly = async (index: number) =>
        (await mappingsOf(`${dir}/${segmentName(index)}`)).find((m) => m.perms === "r--s");
      // Looked at while the reader is in it: read to its end, the reader
      // lets a segment go.
      assert.equal(reader.next()?.seq, 1);
      assert.equal((await readOnly(0))?.flags.includes("hg"), true);
      let count = 1;
      for (let m = reader.next(); m !== undefined; m = reader.next()) count++;
      assert.equal(count, records);
      assert.equal(await readOnly(0), undefined, "segment 0 is let go once read to its end");
      assert.equal((await readOnly(1))?.flags.includes("hg"), false);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

Deno.test("pages faulted in ahead of the writer read as nothing: past the writer's end a segment is zero and a reader finds no record", async () => {
  await withQueueDir(async (dir) => {
    const writer = await QueueWriter.open(dir, { segmentBytes: 4 * MIB });
    const reader = await QueueReader.open(dir);
    try {
      // Into the second segment, whose first 2 MiB the roll faulted in.
      let records = fill(writer, 4.5 * MIB);
      assert.equal(writer.segmentIndex, 1);
      const path = `${dir}/${segmentName(1)}`;
      const [mapping] = (await mappingsOf(path)).filter((m) => m.perms === "rw-s");
      assert.ok(mapping !== undefined && mapping.rss >= 2 * MIB, `${mapping?.rss} B resident`);
      let count = 0;
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        assert.equal(m.seq, ++count);
        assert.equal(m.payload[999], 9);
      }
      assert.equal(count, records);
      const segment = Segment.open(dir, 1, false);
      const end = segment.walk(64, segment.firstSeq);
      assert.equal(end.nextSeq, records + 1);
      segment.file.release();
      assert.ok(
        isZero(Deno.readFileSync(path).subarray(end.offset)),
        "bytes past the writer's end",
      );
      // What is appended next is read, and nothing more.
      records += fill(writer, 100 * 1024);
      for (let m = reader.next(); m !== undefined; m = reader.next()) assert.equal(m.seq, ++count);
      assert.equal(count, records);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

Deno.test("a prepared next segment reads as empty until the writer starts it", async () => {
  await withQueueDir(async (dir) => {
    const writer = await QueueWriter.open(dir, { segmentBytes: 4 * MIB });
    const reader = await QueueReader.open(dir);
    try {
      // Past half-way, the writer prepares segment 1.
      let records = fill(writer, 3 * MIB);
      assert.equal(writer.segmentIndex, 0);
      const next = Deno.readFileSync(`${dir}/${segmentName(1)}`);
      assert.equal(next.length, 4 * MIB);
      assert.ok(isZero(next), "a prepared segment holds nothing");
      let count = 0;
      for (let m = reader.next(); m !== undefined; m = reader.next()) count++;
      assert.equal(count, records);
      // The roll starts it; the reader continues there in order.
      records += fill(writer, 2 * MIB);
      assert.equal(writer.segmentIndex, 1);
      for (let m = reader.next(); m !== undefined; m = reader.next()) assert.equal(m.seq, ++count);
      assert.equal(count, records);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

Deno.test("a queue on tmpfs, where no huge page is given, reads and writes the same", async () => {
  let shm: string;
  try {
    shm = Deno.makeTempDirSync({ dir: "/dev/shm" });
  } catch {
    return; // no /dev/shm here
  }
  try {
    const writer = await QueueWriter.open(`${shm}/q`, { segmentBytes: 4 * MIB });
    const records = fill(writer, 9 * MIB);
    writer.close();
    const reader = await QueueReader.open(`${shm}/q`);
    let count = 0;
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      assert.equal(m.seq, ++count);
      assert.equal(m.payload[0], 9);
    }
    reader.close();
    assert.equal(count, records);
  } finally {
    Deno.removeSync(shm, { recursive: true });
  }
});
