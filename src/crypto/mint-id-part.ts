import { randomBytes } from "node:crypto";

/** mintIdPart returns 8 random hex characters for session ids. */
export function mintIdPart(): string {
  return randomBytes(4).toString("hex");
}
