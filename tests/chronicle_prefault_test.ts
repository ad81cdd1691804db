/**
 * Pre-faulting: with it on, the pages up to a chunk (2 MiB) ahead of the
 * writer are in memory before the writer gets there; with it off, only the
 * pages written are (whole 2 MiB pages where the kernel gives huge pages).
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { segmentName } from "../src/chronicle/format.ts";
import { evalInChild } from "./_helpers.ts";
import { withQueueDir } from "./fixtures/chronicle_common.ts";

const MIB = 1024 * 1024;

/**
 * Resident bytes of this process's mapping of `path`, from its smaps (read
 * by `cat`: Deno lets only `--allow-all` read /proc/self).
 */
async function residentBytes(path: string): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${Deno.pid}/smaps`] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  let inMapping = false;
  let total = 0;
  for (const line of lines) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inMapping = line.endsWith(` ${path}`);
    else if (inMapping && line.startsWith("Rss:")) total += Number(line.split(/\s+/)[1]) * 1024;
  }
  return total;
}

async function writeMiB(dir: string, prefault: boolean): Promise<QueueWriter> {
  const writer = await QueueWriter.open(dir, { segmentBytes: 32 * MIB, prefault });
  const payload = new Uint8Array(1000).fill(7);
  // ~1.5 MiB: within a chunk of the end of the first one faulted in.
  for (let i = 0; i < 1500; i++) writer.append(1, payload);
  return writer;
}

Deno.test("prefault off: only the pages written are resident", async () => {
  await withQueueDir(async (dir) => {
    const writer = await writeMiB(dir, false);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const resident = await residentBytes(`${dir}/${segmentName(writer.segmentIndex)}`);
      assert.ok(resident > MIB, `the written pages are resident (${resident} B)`);
      // A fault maps a whole 2 MiB page where the kernel gives huge pages.
      assert.ok(resident <= 2 * MIB, `nothing past the page written is resident (${resident} B)`);
    } finally {
      writer.close();
    }
  });
});

Deno.test("prefault on: the next chunk ahead of the writer is resident without being written", async () => {
  await withQueueDir(async (dir) => {
    const writer = await writeMiB(dir, true);
    try {
      const path = `${dir}/${segmentName(writer.segmentIndex)}`;
      const resident = await residentBytes(path);
      // Once within a chunk (2 MiB) of the end of what is faulted in, the
      // writer faults the next chunk in: 2 MiB and more past its ~1.5 MiB.
      assert.ok(resident >= 3.5 * MIB, `${resident} B resident ahead of ~1.5 MiB written`);
      assert.ok(resident <= 4 * MIB, `${resident} B resident: no more than two chunks`);
      // Faulting in changed nothing: the records are intact and nothing follows them.
      const reader = await QueueReader.open(dir);
      let count = 0;
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        assert.equal(m.payload.length, 1000);
        assert.equal(m.payload[999], 7);
        count++;
      }
      reader.close();
      assert.equal(count, 1500);
    } finally {
      writer.close();
    }
  });
});

Deno.test("prefault on: a program that never closes its writer still exits", async () => {
  await withQueueDir(async (dir) => {
    const script = `
      import { QueueWriter } from "${new URL("../src/chronicle/mod.ts", import.meta.url).href}";
      const w = await QueueWriter.open(Deno.args[0], { segmentBytes: 1 << 20 });
      w.append(1, new Uint8Array([1]));
      console.log("appended");
    `;
    const out = await evalInChild(script, [dir]);
    assert.equal(out.signal, null, "the child had to be killed: something kept it alive");
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "appended");
  });
});

Deno.test("prefault on: a writer with nothing to append leaves the CPU idle", async () => {
  await withQueueDir(async (dir) => {
    // An odd position, so the window ahead ends inside a page.
    const writer = await QueueWriter.open(dir, { segmentBytes: 32 * MIB });
    try {
      writer.append(1, new Uint8Array(13));
      // Measure the process while nothing happens.
      await new Promise((r) => setTimeout(r, 300));
      const before = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 1000));
      const used = process.cpuUsage(before);
      const cpuMs = (used.user + used.system) / 1000;
      // A spinning worker would use the whole second.
      assert.ok(cpuMs < 250, `${cpuMs.toFixed(1)} ms of CPU in 1 s of idling`);
    } finally {
      writer.close();
    }
  });
});
