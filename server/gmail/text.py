"""The plain-text alternative of an HTML body sent through Gmail."""

from __future__ import annotations

from html.parser import HTMLParser


class _Text(HTMLParser):
    """Collects the readable text of an HTML body for the plain-text alternative."""

    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.links: list[tuple[str, int]] = []  # open <a>: its href, where its text starts

    def handle_starttag(self, tag, attrs):
        """Line breaks for block tags; nothing from scripts and styles; remember link targets."""
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")
        elif tag == "a":
            self.links.append(((dict(attrs).get("href") or "").strip(), len(self.parts)))

    def handle_endtag(self, tag):
        """Leave a script or style; follow a link's text with its address: "text (url)"."""
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.parts[start:]).strip()
            if href.startswith(("http://", "https://", "mailto:")) and text != href:
                self.parts.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data):
        """Keep visible text."""
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A plain-text rendering of an HTML body."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line).strip() + "\n"
