/**
 * Redis keeps a hash compact (listpack) only while every value is at most
 * hash-max-listpack-value bytes (64 by default); one longer value turns the
 * whole hash into a hashtable, about twice the memory. Long values are
 * therefore stored as chunks: `name`, `name1`, `name2`, ... of at most 64
 * bytes each, cut between characters so each chunk is valid UTF-8.
 */
export const maxChunkBytes = 64;

/** chunkFields returns the field/value pairs storing `value` under `name`. */
export function chunkFields(name: string, value: string): string[] {
  const out: string[] = [];
  let chunk = "";
  let bytes = 0;
  for (const char of value) {
    const size = Buffer.byteLength(char, "utf8");
    if (bytes + size > maxChunkBytes) {
      out.push(out.length === 0 ? name : `${name}${out.length / 2}`, chunk);
      chunk = "";
      bytes = 0;
    }
    chunk += char;
    bytes += size;
  }
  out.push(out.length === 0 ? name : `${name}${out.length / 2}`, chunk);
  return out;
}

/** joinChunks reads back a value stored by chunkFields; undefined when absent. */
export function joinChunks(fields: Readonly<Record<string, string>>, name: string): string | undefined {
  const first = fields[name];
  if (first === undefined) return undefined;
  let value = first;
  for (let i = 1; fields[`${name}${i}`] !== undefined; i++) value += fields[`${name}${i}`];
  return value;
}
