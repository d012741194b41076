/** tokenPreview shows the first 8 and last 4 characters: "eyJhbGci...Q3Yk". */
export function tokenPreview(token: string): string {
  if (token.length <= 12) return "...";
  return `${token.slice(0, 8)}...${token.slice(-4)}`;
}
