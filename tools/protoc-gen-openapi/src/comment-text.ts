import type { AnyDesc, DescFile } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";

/**
 * commentText is an element's leading proto comment as one paragraph (proto
 * comments are wrapped prose), or undefined when it has none.
 */
export function commentText(desc: Exclude<AnyDesc, DescFile>): string | undefined {
  const text = getComments(desc).leading;
  if (text === undefined) return undefined;
  const joined = text.split("\n").map((line) => line.trim()).filter(Boolean).join(" ");
  return joined === "" ? undefined : joined;
}

/** withDescription adds an element's comment to a schema, when it has one. */
export function withDescription<T extends object>(desc: Exclude<AnyDesc, DescFile>, schema: T): T & { description?: string } {
  const description = commentText(desc);
  return description === undefined ? schema : { description, ...schema };
}
