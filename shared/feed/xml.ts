/**
 * A minimal XML writer: a tree of elements serialised with every text and
 * attribute escaped, so no caller ever concatenates untrusted strings into
 * markup.
 */

export type AttributeValue = string | number | boolean | undefined;

export interface XmlElement {
  name: string;
  attrs?: Record<string, AttributeValue>;
  /** Plain text content (escaped on output). Ignored when children are given. */
  text?: string;
  /** Falsy entries are dropped, so optional tags can be written inline. */
  children?: readonly (XmlElement | undefined | false)[];
}

/**
 * Everything outside the XML 1.0 Char production (C0 controls except tab/LF/CR,
 * lone surrogates, U+FFFE/U+FFFF), plus the C1 controls: one of these makes
 * the whole feed unparseable, so they are dropped rather than escaped.
 */
const NOT_XML_CHAR = /[^\t\n\r\x20-\x7E\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlSafe(value: string): string {
  return value.replace(NOT_XML_CHAR, "");
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // Parsers normalise raw CR (and, in attributes, tab/LF) away: keep them as references.
  "\r": "&#13;",
  "\n": "&#10;",
  "\t": "&#9;",
};

export function escapeText(value: string): string {
  return xmlSafe(value).replace(/[&<>\r]/g, (c) => ENTITIES[c]!);
}

export function escapeAttribute(value: string): string {
  return xmlSafe(value).replace(/[&<>"'\r\n\t]/g, (c) => ENTITIES[c]!);
}

function attributes(attrs: Record<string, AttributeValue> | undefined): string {
  if (!attrs) return "";
  let out = "";
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    out += ` ${name}="${escapeAttribute(String(value))}"`;
  }
  return out;
}

export function serialize(element: XmlElement, depth = 0): string {
  const pad = "  ".repeat(depth);
  const open = `${element.name}${attributes(element.attrs)}`;
  const children = (element.children ?? []).filter((c): c is XmlElement => Boolean(c));
  if (children.length > 0) {
    const inner = children.map((c) => serialize(c, depth + 1)).join("\n");
    return `${pad}<${open}>\n${inner}\n${pad}</${element.name}>`;
  }
  if (element.text === undefined || element.text === "") return `${pad}<${open}/>`;
  return `${pad}<${open}>${escapeText(element.text)}</${element.name}>`;
}

export function xmlDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serialize(root)}\n`;
}
