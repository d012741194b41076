/** show writes one outcome into the element with `id`, marked ok or error for the eye (and the test). */
export function show(id: string, text: string, state: "ok" | "error" = "ok"): void {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no element #${id}`);
  el.textContent = text;
  el.dataset.state = state;
}
