import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { parseInline, parseMarkdown, renderMarkdown, safeHref } from "./markdown";

const html = (md: string) => renderToStaticMarkup(renderMarkdown(md));

describe("markdown from the model never becomes HTML", () => {
  it("shows an <img onerror> as text", () => {
    const out = html("look: <img src=x onerror=alert(1)>");
    expect(out).not.toContain("<img");
    expect(out).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
  it("shows a <script> as text, in a paragraph, a list, a heading and code", () => {
    for (const md of [
      "<script>alert(1)</script>",
      "- <script>alert(1)</script>",
      "# <script>alert(1)</script>",
      "```html\n<script>alert(1)</script>\n```",
      "`<script>alert(1)</script>`",
      "**<script>alert(1)</script>**",
      "> <script>alert(1)</script>",
    ]) {
      const out = html(md);
      expect(out, md).not.toMatch(/<script/i);
      expect(out, md).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
  });
  it("builds no element the renderer does not know", () => {
    const out = html('<iframe src="x"></iframe> <a href="javascript:alert(1)">x</a> <svg onload=alert(1)>');
    expect(out).not.toMatch(/<(iframe|svg|a)\b/);
    const tags = [...html("# h\n\ntext **b** *i* `c` [l](https://x.example)\n\n- a\n\n1. b\n\n> q\n\n---\n\n```\nx\n```").matchAll(/<([a-z0-9]+)/g)].map((m) => m[1]);
    for (const tag of tags) expect(["h3", "p", "strong", "em", "code", "a", "ul", "ol", "li", "blockquote", "hr", "pre"]).toContain(tag);
  });
  it("follows only http(s) and mailto links", () => {
    expect(safeHref("https://example.com/a?b")).toBe("https://example.com/a?b");
    expect(safeHref("mailto:a@b.c")).toBe("mailto:a@b.c");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("JAVASCRIPT:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,<script>")).toBeNull();
    expect(safeHref("java\tscript:alert(1)")).toBeNull();
    const out = html("[click](javascript:alert(1)) and [ok](https://example.com)");
    expect(out).not.toContain("javascript");
    expect(out).toContain("click");
    expect(out).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">ok</a>');
  });
});

describe("markdown", () => {
  it("parses blocks", () => {
    expect(parseMarkdown("# Title\n\nSome *text*.\n\n- one\n- two\n\n1. a\n2. b\n\n```js\nlet x = 1;\n```").map((b) => b.kind)).toEqual([
      "heading",
      "paragraph",
      "list",
      "list",
      "code",
    ]);
  });
  it("parses inline marks", () => {
    expect(parseInline("a **b** *c* `d` ~~e~~ snake_case_name")).toEqual([
      { kind: "text", text: "a " },
      { kind: "strong", children: [{ kind: "text", text: "b" }] },
      { kind: "text", text: " " },
      { kind: "em", children: [{ kind: "text", text: "c" }] },
      { kind: "text", text: " " },
      { kind: "code", text: "d" },
      { kind: "text", text: " " },
      { kind: "del", children: [{ kind: "text", text: "e" }] },
      { kind: "text", text: " snake_case_name" },
    ]);
    expect(parseInline("2 * 3 * 4")).toEqual([{ kind: "text", text: "2 * 3 * 4" }]);
    expect(parseInline("\\*not em\\*")).toEqual([{ kind: "text", text: "*not em*" }]);
  });
  it("renders a reply still streaming (an open fence is code to the end)", () => {
    expect(html("Here:\n```py\nprint(1)")).toBe('<p>Here:</p><pre tabindex="0"><code data-lang="py">print(1)</code></pre>');
    expect(html("**bold not closed yet")).toBe("<p>**bold not closed yet</p>");
  });
  it("renders lists, quotes and rules", () => {
    expect(html("- a\n- b")).toBe("<ul><li>a</li><li>b</li></ul>");
    expect(html("3. c\n4. d")).toBe('<ol start="3"><li>c</li><li>d</li></ol>');
    expect(html("> quoted")).toBe("<blockquote><p>quoted</p></blockquote>");
    expect(html("a\n\n---\n\nb")).toBe("<p>a</p><hr/><p>b</p>");
    expect(html("line one\nline two")).toBe("<p>line one line two</p>");
  });
});
