import { randomBytes } from "node:crypto";

/** mintToken returns 256 bits from the CSPRNG, base64url (43 characters). */
export function mintToken(): string {
  return randomBytes(32).toString("base64url");
}

/** mintIdPart returns 8 random hex characters for session ids. */
export function mintIdPart(): string {
  return randomBytes(4).toString("hex");
}
