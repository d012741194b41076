import { Code } from "@connectrpc/connect";

/** codeName is the Connect name of a code: "not_found". */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
