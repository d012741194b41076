import { Code, ConnectError } from "@connectrpc/connect";
import { limits } from "../core/limits.js";

/** parsePageSize applies the default page size and refuses sizes out of range. */
export function parsePageSize(size: number, field: string): number {
  if (size < 0) throw new ConnectError(`${field} must not be negative`, Code.InvalidArgument);
  if (size > limits.maxPageSize) {
    throw new ConnectError(`${field} must be at most ${limits.maxPageSize}`, Code.InvalidArgument);
  }
  return size === 0 ? limits.defaultPageSize : size;
}
