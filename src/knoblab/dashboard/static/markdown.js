// knoblab dashboard: notes in Markdown, rendered safely. The text becomes DOM nodes built one by one (text nodes
// and a few known elements), never parsed as HTML: raw HTML in a note shows as text, and links keep only
// http(s), mailto and same-site addresses.
// Blocks: paragraphs (a single newline is a line break), # headings, - and 1. lists, > quotes, ``` code, ---.
// Inline: `code`, **bold**, *italic* (or _), [text](url), bare http(s) addresses, \ escapes.
"use strict";

const MD_INLINE = [
  { kind: "escape", re: /\\([\\`*_[\]()#+\-.!>~|])/y },
  { kind: "code", re: /(`+)([\s\S]+?)\1/y },
  { kind: "image", re: /!\[([^\]]*)\]\(([^)\s]*)\)/y },
  { kind: "link", re: /\[([^\]]+)\]\(([^)\s]+)\)/y },
  { kind: "strong", re: /\*\*(?=\S)([\s\S]+?)\*\*/y },
  { kind: "strong", re: /__(?=\S)([\s\S]+?)__(?!\w)/y },
  { kind: "em", re: /\*(?=[^\s*])([^*]+?)\*/y },
  { kind: "em", re: /(?<!\w)_(?=[^\s_])([^_]+?)_(?!\w)/y },
  { kind: "url", re: /https?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]]/y },
];

function mdSafeHref(url) {
  const u = String(url).trim();
  if (/^(https?:|mailto:)/i.test(u)) return u;
  if (/^[/#?]/.test(u) && !u.startsWith("//")) return u; // this dashboard's own pages
  return null;
}

function mdLink(text, url, kids) {
  const href = mdSafeHref(url);
  if (!href) return document.createTextNode(`${text} (${url})`);
  const a = document.createElement("a");
  a.href = href;
  a.rel = "noopener noreferrer nofollow";
  a.append(...kids);
  return a;
}

function mdInline(text) {
  const out = [];
  let buf = "", i = 0;
  const flush = () => { if (buf) { out.push(document.createTextNode(buf)); buf = ""; } };
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") { flush(); out.push(document.createElement("br")); i++; continue; }
    if (!"\\`![*_h".includes(c)) { buf += c; i++; continue; }
    let hit = null;
    for (const p of MD_INLINE) {
      p.re.lastIndex = i;
      const m = p.re.exec(text);
      if (m) { hit = { p, m }; break; }
    }
    if (!hit) { buf += c; i++; continue; }
    const { p, m } = hit;
    flush();
    if (p.kind === "escape") buf += m[1];
    else if (p.kind === "code") {
      const code = document.createElement("code");
      code.textContent = m[2];
      out.push(code);
    } else if (p.kind === "image") out.push(document.createTextNode(m[1] || m[2])); // no images from notes
    else if (p.kind === "link") out.push(mdLink(m[1], m[2], mdInline(m[1])));
    else if (p.kind === "url") out.push(mdLink(m[0], m[0], [document.createTextNode(m[0])]));
    else {
      const node = document.createElement(p.kind);
      node.append(...mdInline(m[1]));
      out.push(node);
    }
    i += m[0].length;
  }
  flush();
  return out;
}

const MD_BLOCK_START = /^\s{0,3}(#{1,6}\s|>|[-*+]\s|\d{1,9}[.)]\s|```|(?:---|\*\*\*|___)\s*$)/;

function mdBlocks(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (/^\s*$/.test(line)) { i++; continue; }
    if (/^\s{0,3}```/.test(line)) {
      const body = [];
      for (i++; i < lines.length && !/^\s{0,3}```/.test(lines[i]); i++) body.push(lines[i]);
      i++;
      const pre = document.createElement("pre"), code = document.createElement("code");
      code.textContent = body.join("\n");
      pre.append(code);
      out.push(pre);
    } else if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      const node = document.createElement(`h${Math.min(6, m[1].length + 2)}`); // under the page's own h1 and h2
      node.className = "md-h";
      node.append(...mdInline(m[2]));
      out.push(node);
      i++;
    } else if (/^\s{0,3}(?:---|\*\*\*|___)\s*$/.test(line)) {
      out.push(document.createElement("hr"));
      i++;
    } else if (/^\s{0,3}>/.test(line)) {
      const body = [];
      for (; i < lines.length && /^\s{0,3}>/.test(lines[i]); i++) body.push(lines[i].replace(/^\s{0,3}>\s?/, ""));
      const q = document.createElement("blockquote");
      q.append(...mdBlocks(body));
      out.push(q);
    } else if ((m = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+/.exec(line))) {
      const ordered = /\d/.test(m[1]);
      const item = ordered ? /^\s{0,3}\d{1,9}[.)]\s+(.*)$/ : /^\s{0,3}[-*+]\s+(.*)$/;
      const list = document.createElement(ordered ? "ol" : "ul");
      for (; i < lines.length; i++) {
        const im = item.exec(lines[i]);
        if (im) {
          const li = document.createElement("li");
          li.append(...mdInline(im[1]));
          list.append(li);
        } else if (/^\s{2,}\S/.test(lines[i]) && list.lastChild) { // a continued item
          list.lastChild.append(document.createElement("br"), ...mdInline(lines[i].trim()));
        } else break;
      }
      out.push(list);
    } else {
      const body = [];
      for (; i < lines.length && !/^\s*$/.test(lines[i]) && (!body.length || !MD_BLOCK_START.test(lines[i])); i++) {
        body.push(lines[i]);
      }
      const p = document.createElement("p");
      p.append(...mdInline(body.join("\n")));
      out.push(p);
    }
  }
  return out;
}

// a DocumentFragment of the note; inline: only its first paragraph, without blocks (a table cell)
function renderMarkdown(text, opts = {}) {
  const frag = document.createDocumentFragment();
  const source = String(text || "").replace(/\r\n?/g, "\n");
  if (opts.inline) {
    let first = source.trim().split(/\n\s*\n/)[0] || "";
    first = first.replace(/^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)/gm, "").replace(/\n/g, " ");
    if (opts.max && first.length > opts.max) first = `${first.slice(0, opts.max - 1)}…`;
    frag.append(...mdInline(first));
    return frag;
  }
  frag.append(...mdBlocks(source.split("\n")));
  return frag;
}
