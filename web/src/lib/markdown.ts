// The assistant's replies as markdown, rendered to React elements built here — never through
// innerHTML — so whatever the model writes, HTML included, can only ever become text: a `<script>`
// or `<img onerror>` in a reply shows as those characters. The subset: headings, paragraphs, fenced
// and indented code, block quotes, bullet and numbered lists, rules, and inline code, bold, italic,
// strike-through and links (http, https and mailto only; any other scheme stays text). It parses a
// reply still streaming: an unclosed fence is code up to the end.
import { createElement, Fragment, type ReactNode } from "react";

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "code"; text: string }
  | { kind: "strong"; children: Inline[] }
  | { kind: "em"; children: Inline[] }
  | { kind: "del"; children: Inline[] }
  | { kind: "link"; href: string; children: Inline[] }
  | { kind: "br" };

export type Block =
  | { kind: "heading"; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { kind: "paragraph"; children: Inline[] }
  | { kind: "code"; lang: string; text: string }
  | { kind: "quote"; children: Block[] }
  | { kind: "list"; ordered: boolean; start: number; items: Block[][] }
  | { kind: "rule" };

/// A link target the page will follow: http(s) or mailto, nothing else (no `javascript:`, `data:`).
export function safeHref(raw: string): string | null {
  const href = raw.trim();
  if (/[\u0000-\u001f\s]/.test(href)) return null;
  return /^(https?:\/\/|mailto:)/i.test(href) ? href : null;
}

// ---------------------------------------------------------------- inline

const DELIMS: [string, "strong" | "em" | "del"][] = [
  ["**", "strong"],
  ["__", "strong"],
  ["~~", "del"],
  ["*", "em"],
  ["_", "em"],
];

export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const flush = () => {
    if (text) out.push({ kind: "text", text });
    text = "";
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === "\\" && i + 1 < src.length && /[\\`*_~[\]()#>!-]/.test(src[i + 1])) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === "\n") {
      // two trailing spaces make a hard break; otherwise a newline in a paragraph is a space
      if (text.endsWith("  ")) {
        text = text.replace(/ +$/, "");
        flush();
        out.push({ kind: "br" });
      } else text += " ";
      i++;
      continue;
    }
    if (ch === "`") {
      let ticks = 1;
      while (src[i + ticks] === "`") ticks++;
      const fence = "`".repeat(ticks);
      const end = src.indexOf(fence, i + ticks);
      if (end > 0) {
        flush();
        out.push({ kind: "code", text: src.slice(i + ticks, end).replace(/^ (.*) $/s, "$1") });
        i = end + ticks;
        continue;
      }
    }
    if (ch === "[") {
      const close = findClosing(src, i);
      if (close > 0 && src[close + 1] === "(") {
        const paren = src.indexOf(")", close + 2);
        if (paren > 0) {
          const target = src.slice(close + 2, paren).trim().split(/\s+/)[0] ?? "";
          const href = safeHref(target);
          const label = parseInline(src.slice(i + 1, close));
          flush();
          if (href) out.push({ kind: "link", href, children: label });
          else out.push(...label); // an unsafe link keeps its words, loses its target
          i = paren + 1;
          continue;
        }
      }
    }
    const delim = DELIMS.find(([d]) => src.startsWith(d, i));
    if (delim) {
      const [d, kind] = delim;
      const after = src[i + d.length];
      const end = after && after !== " " ? findDelimEnd(src, i + d.length, d) : -1;
      // `_` inside a word (snake_case) is not emphasis
      const intraword = d[0] === "_" && /\w/.test(src[i - 1] ?? "");
      if (end > 0 && !intraword) {
        flush();
        out.push({ kind, children: parseInline(src.slice(i + d.length, end)) });
        i = end + d.length;
        continue;
      }
      text += d;
      i += d.length;
      continue;
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

function findClosing(src: string, open: number): number {
  let depth = 0;
  for (let j = open; j < src.length; j++) {
    if (src[j] === "\\") j++;
    else if (src[j] === "[") depth++;
    else if (src[j] === "]" && --depth === 0) return j;
  }
  return -1;
}

function findDelimEnd(src: string, from: number, d: string): number {
  let j = src.indexOf(d, from);
  while (j > 0) {
    const before = src[j - 1];
    const next = src[j + d.length];
    // a closing delimiter follows a non-space and is not the start of a longer run (`*` vs `**`)
    if (before !== " " && j > from && !(d.length === 1 && next === d)) return j;
    j = src.indexOf(d, j + d.length);
  }
  return -1;
}

// ---------------------------------------------------------------- blocks

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^( {0,3})([-*+])\s+(.*)$/;
const ORDERED = /^( {0,3})(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;

export function parseMarkdown(src: string): Block[] {
  return parseBlocks(src.replace(/\r\n?/g, "\n").split("\n"));
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const flushPara = () => {
    if (para.length) blocks.push({ kind: "paragraph", children: parseInline(para.join("\n").trim()) });
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      flushPara();
      const marker = fence[1];
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(marker)) body.push(lines[i++]);
      i++; // the closing fence (or past the end while streaming)
      blocks.push({ kind: "code", lang: fence[2], text: body.join("\n") });
      continue;
    }
    if (!line.trim()) {
      flushPara();
      i++;
      continue;
    }
    if (!para.length && /^( {4}|\t)/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && (/^( {4}|\t)/.test(lines[i]) || !lines[i].trim())) body.push(lines[i++].replace(/^( {4}|\t)/, ""));
      while (body.length && !body[body.length - 1].trim()) body.pop();
      blocks.push({ kind: "code", lang: "", text: body.join("\n") });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flushPara();
      blocks.push({ kind: "heading", level: heading[1].length as 1, children: parseInline(heading[2]) });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      flushPara();
      blocks.push({ kind: "rule" });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      flushPara();
      const body: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) body.push(QUOTE.exec(lines[i++])![1]);
      blocks.push({ kind: "quote", children: parseBlocks(body) });
      continue;
    }
    const bullet = BULLET.exec(line);
    const ordered = ORDERED.exec(line);
    if (bullet || ordered) {
      flushPara();
      const isOrdered = !bullet;
      const re = isOrdered ? ORDERED : BULLET;
      const items: string[][] = [];
      while (i < lines.length) {
        const m = re.exec(lines[i]);
        if (m) {
          items.push([m[3]]);
          i++;
        } else if (items.length && lines[i].trim() && /^\s{2,}/.test(lines[i])) {
          items[items.length - 1].push(lines[i].replace(/^\s{2,4}/, ""));
          i++;
        } else if (items.length && !lines[i].trim() && i + 1 < lines.length && re.test(lines[i + 1])) {
          i++; // a blank line between items
        } else break;
      }
      blocks.push({
        kind: "list",
        ordered: isOrdered,
        start: ordered ? Number(ordered[2]) : 1,
        items: items.map((item) => parseBlocks(item)),
      });
      continue;
    }
    para.push(line);
    i++;
  }
  flushPara();
  return blocks;
}

// ---------------------------------------------------------------- React elements

function inlineNodes(nodes: Inline[]): ReactNode[] {
  return nodes.map((n, k) => {
    switch (n.kind) {
      case "text":
        return n.text;
      case "code":
        return createElement("code", { key: k }, n.text);
      case "strong":
        return createElement("strong", { key: k }, ...inlineNodes(n.children));
      case "em":
        return createElement("em", { key: k }, ...inlineNodes(n.children));
      case "del":
        return createElement("del", { key: k }, ...inlineNodes(n.children));
      case "link":
        return createElement("a", { key: k, href: n.href, target: "_blank", rel: "noopener noreferrer nofollow" }, ...inlineNodes(n.children));
      case "br":
        return createElement("br", { key: k });
    }
  });
}

function blockNodes(blocks: Block[]): ReactNode[] {
  return blocks.map((b, k) => {
    switch (b.kind) {
      case "heading":
        // A reply's headings sit under the page's own: shown one level down, never as h1.
        return createElement(`h${Math.min(6, b.level + 2)}`, { key: k }, ...inlineNodes(b.children));
      case "paragraph":
        return createElement("p", { key: k }, ...inlineNodes(b.children));
      case "code":
        return createElement(
          "pre",
          { key: k, tabIndex: 0 },
          createElement("code", b.lang ? { "data-lang": b.lang } : null, b.text),
        );
      case "quote":
        return createElement("blockquote", { key: k }, ...blockNodes(b.children));
      case "list":
        return createElement(
          b.ordered ? "ol" : "ul",
          { key: k, ...(b.ordered && b.start !== 1 ? { start: b.start } : {}) },
          ...b.items.map((item, j) => {
            // a one-paragraph item is shown without its paragraph margins
            const only = item.length === 1 && item[0].kind === "paragraph" ? item[0] : null;
            return createElement("li", { key: j }, ...(only ? inlineNodes(only.children) : blockNodes(item)));
          }),
        );
      case "rule":
        return createElement("hr", { key: k });
    }
  });
}

/// The markdown `src` as React elements (text in them is escaped by React).
export function renderMarkdown(src: string): ReactNode {
  return createElement(Fragment, null, ...blockNodes(parseMarkdown(src)));
}
