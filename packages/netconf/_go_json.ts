// Private: a small JSON parser that keeps what Go's encoding/json looks at and JSON.parse loses:
// every object key in order (duplicates included), the raw text of each value (numbers such as
// `1.0` or `1e2` are not unsigned integers to Go), and Go's syntax error texts
// (`invalid character 'x' looking for beginning of value`, `unexpected end of JSON input`).

/** A parsed JSON value with its raw source text. */
export type GoJsonValue =
  | { readonly kind: "object"; readonly raw: string; readonly entries: readonly (readonly [string, GoJsonValue])[] }
  | { readonly kind: "array"; readonly raw: string; readonly items: readonly GoJsonValue[] }
  | { readonly kind: "string"; readonly raw: string; readonly value: string }
  | { readonly kind: "number"; readonly raw: string }
  | { readonly kind: "bool"; readonly raw: string; readonly value: boolean }
  | { readonly kind: "null"; readonly raw: string };

/** A JSON syntax error, worded as Go's `json.SyntaxError`. */
export class GoJsonSyntaxError extends SyntaxError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "GoJsonSyntaxError";
    this.offset = offset;
  }
}

const END = "unexpected end of JSON input";
/** Go's encoding/json nesting limit. */
const MAX_DEPTH = 10000;

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/** Parses `text` like Go's `json.Unmarshal` validates it. @throws {GoJsonSyntaxError} */
export function parseGoJson(text: string): GoJsonValue {
  let i = 0;
  const fail = (context: string): never => {
    if (i >= text.length) throw new GoJsonSyntaxError(END, i);
    throw new GoJsonSyntaxError(`invalid character ${quoteChar(text[i]!)} ${context}`, i);
  };
  const skipSpace = (): void => {
    while (isSpace(text[i])) i++;
  };

  const literal = (word: string): void => {
    // Go reports the first wrong byte: "invalid character 'x' in literal true (expecting 'r')".
    for (let k = 1; k < word.length; k++) {
      i++;
      if (i >= text.length) throw new GoJsonSyntaxError(END, i);
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
    i++;
  };

  const string = (): string => {
    // text[i] === '"'
    i++;
    let out = "";
    for (;;) {
      if (i >= text.length) throw new GoJsonSyntaxError(END, i);
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c < " ") fail("in string literal");
      if (c === "\\") {
        i++;
        if (i >= text.length) throw new GoJsonSyntaxError(END, i);
        const e = text[i]!;
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) {
          out += simple[e];
          i++;
        } else if (e === "u") {
          let code = 0;
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= text.length) throw new GoJsonSyntaxError(END, i);
            const h = text[i]!;
            if (!/[0-9a-fA-F]/.test(h)) fail("in \\u hexadecimal character escape");
            code = code * 16 + parseInt(h, 16);
          }
          out += String.fromCharCode(code);
          i++;
        } else {
          fail("in string escape code");
        }
        continue;
      }
      out += c;
      i++;
    }
  };

  const number = (): void => {
    // Go's scanner: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    if (text[i] === "-") {
      i++;
      if (i >= text.length) throw new GoJsonSyntaxError(END, i);
      if (!/[0-9]/.test(text[i]!)) fail("in numeric literal");
    }
    if (text[i] === "0") i++;
    else while (/[0-9]/.test(text[i] ?? "")) i++;
    if (text[i] === ".") {
      i++;
      if (i >= text.length) throw new GoJsonSyntaxError(END, i);
      if (!/[0-9]/.test(text[i]!)) fail("after decimal point in numeric literal");
      while (/[0-9]/.test(text[i] ?? "")) i++;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (i >= text.length) throw new GoJsonSyntaxError(END, i);
      if (!/[0-9]/.test(text[i]!)) fail("in exponent of numeric literal");
      while (/[0-9]/.test(text[i] ?? "")) i++;
    }
  };

  const objectKey = (): string => {
    skipSpace();
    if (text[i] !== '"') fail("looking for beginning of object key string");
    const key = string();
    skipSpace();
    if (text[i] !== ":") fail("after object key");
    i++;
    return key;
  };

  const scalar = (): GoJsonValue => {
    const start = i;
    const c = text[i]!;
    if (c === '"') {
      const s = string();
      return { kind: "string", raw: text.slice(start, i), value: s };
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      number();
      return { kind: "number", raw: text.slice(start, i) };
    }
    if (c === "t" || c === "f") {
      literal(c === "t" ? "true" : "false");
      return { kind: "bool", raw: text.slice(start, i), value: c === "t" };
    }
    if (c === "n") {
      literal("null");
      return { kind: "null", raw: text.slice(start, i) };
    }
    return fail("looking for beginning of value");
  };

  // Iterative (an explicit stack of open containers), so deeply nested input cannot overflow the JS stack.
  type Frame =
    | { kind: "object"; start: number; entries: [string, GoJsonValue][]; key: string }
    | { kind: "array"; start: number; items: GoJsonValue[] };
  const stack: Frame[] = [];
  const value = (): GoJsonValue => {
    for (;;) {
      // Expect the start of a value.
      skipSpace();
      const start = i;
      const c = text[i];
      if (c === undefined) throw new GoJsonSyntaxError(END, i);
      let v: GoJsonValue;
      if (c === "{" || c === "[") {
        if (stack.length >= MAX_DEPTH) throw new GoJsonSyntaxError("exceeded max depth", i);
        i++;
        skipSpace();
        if (c === "{" && text[i] === "}") {
          i++;
          v = { kind: "object", raw: text.slice(start, i), entries: [] };
        } else if (c === "[" && text[i] === "]") {
          i++;
          v = { kind: "array", raw: text.slice(start, i), items: [] };
        } else {
          stack.push(c === "{" ? { kind: "object", start, entries: [], key: objectKey() } : { kind: "array", start, items: [] });
          continue;
        }
      } else {
        v = scalar();
      }
      // A value is complete: add it to the open containers, closing those that end here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top) return v;
        if (top.kind === "object") top.entries.push([top.key, v]);
        else top.items.push(v);
        skipSpace();
        if (text[i] === ",") {
          i++;
          if (top.kind === "object") top.key = objectKey();
          break;
        }
        if (text[i] === (top.kind === "object" ? "}" : "]")) {
          i++;
          stack.pop();
          v = top.kind === "object"
            ? { kind: "object", raw: text.slice(top.start, i), entries: top.entries }
            : { kind: "array", raw: text.slice(top.start, i), items: top.items };
          continue;
        }
        fail(top.kind === "object" ? "after object key:value pair" : "after array element");
      }
    }
  };

  const result = value();
  skipSpace();
  if (i < text.length) fail("after top-level value");
  return result;
}

/**
 * The plain JavaScript value of a parsed JSON value. Its raw text is valid JSON, so the native parser
 * does the work (no recursion limit); for duplicate keys the last one wins, as in Go.
 */
export function goJsonToPlain(v: GoJsonValue): unknown {
  return JSON.parse(v.raw);
}
