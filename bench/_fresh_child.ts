/**
 * One fresh-process round for `chronicle_fresh_bench.ts`: appends records to
 * a new queue, then scans them with one reader, timing each, and prints one
 * JSON line. The chronicle is imported from the tree given as the first
 * argument, so two trees (before and after a change) run the same code.
 *
 * @module
 */

const [root, sizeText, countText, base] = Deno.args as [string, string, string, string];
const size = Number(sizeText);
const count = Number(countText);
const { QueueReader, QueueWriter } = await import(`${root}/src/chronicle/mod.ts`);
const dir = Deno.makeTempDirSync({ dir: base, prefix: "spool-fresh-bench-" });
try {
  const writer = await QueueWriter.open(dir, { segmentBytes: 64 * 1024 * 1024 });
  const payload = new Uint8Array(size).fill(1);
  let t0 = performance.now();
  for (let i = 0; i < count; i++) writer.append(1, payload, 1n);
  const append = (performance.now() - t0) * 1e6 / count;
  writer.close();
  const reader = await QueueReader.open(dir);
  let sum = 0;
  t0 = performance.now();
  for (let m = reader.next(); m !== undefined; m = reader.next()) sum += m.seq;
  const scan = (performance.now() - t0) * 1e6 / count;
  reader.close();
  if (sum !== count * (count + 1) / 2) throw new Error(`scan saw the wrong records (${sum})`);
  console.log(JSON.stringify({ append, scan }));
} finally {
  Deno.removeSync(dir, { recursive: true });
}
