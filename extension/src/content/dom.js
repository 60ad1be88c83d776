// Building our bits of UI from text only: no innerHTML of anything the server or a lead wrote.

/** An element with class, text and children; attributes set as properties never parse HTML. */
export function el(tag, { cls, text, title, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  if (title) node.title = title;
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

/** One timeline item as a list line: its time, then its text. */
export function timelineLine(item, cls) {
  return el("li", { cls }, [el("time", { text: item.at }), el("span", { text: ` ${item.text}` })]);
}
