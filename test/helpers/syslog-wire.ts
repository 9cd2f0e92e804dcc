/** Reading what syslog senders put on the wire, for the alert notifier's and the log destination's tests. */
import assert from 'node:assert/strict';

/** A received RFC 5424 message, split per §6. */
export interface Parsed {
  pri: number;
  version: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sdId: string | null;
  sd: Map<string, string>;
  msg: string;
}

/** RFC 5424 parser for one SD-ELEMENT (or NILVALUE), un-escaping PARAM-VALUEs (§6.3.3). */
export function parse5424(text: string): Parsed {
  const head = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  assert.ok(head, `not an RFC 5424 header: ${text}`);
  let i = head[0].length;
  const sd = new Map<string, string>();
  let sdId: string | null = null;
  if (text[i] === '-') {
    i++;
  } else {
    assert.equal(text[i], '[', `SD must start with [ at ${i}: ${text}`);
    const id = /^\[([^ \]=""]+)/.exec(text.slice(i));
    assert.ok(id);
    sdId = id[1];
    i += id[0].length;
    while (text[i] === ' ') {
      const name = /^ ([^ =\]"]{1,32})="/.exec(text.slice(i));
      assert.ok(name, `bad SD-PARAM at ${i}: ${text.slice(i, i + 40)}`);
      i += name[0].length;
      let value = '';
      while (text[i] !== '"') {
        if (text[i] === '\\' && ['"', '\\', ']'].includes(text[i + 1])) i++;
        else assert.ok(text[i] !== ']', `unescaped ] inside a value: ${text}`);
        value += text[i++];
      }
      i++;
      sd.set(name[1], value);
    }
    assert.equal(text[i], ']', `SD element not closed at ${i}: ${text}`);
    i++;
  }
  const msg = text[i] === ' ' ? text.slice(i + 1) : '';
  return {
    pri: Number(head[1]),
    version: head[2],
    timestamp: head[3],
    hostname: head[4],
    appName: head[5],
    procId: head[6],
    msgId: head[7],
    sdId,
    sd,
    msg,
  };
}

/** RFC 6587 §3.4.1 octet-counted frames from a byte stream; anything else fails the test. */
export class OctetCountedReader {
  private buf = Buffer.alloc(0);
  readonly frames: string[] = [];

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const sp = this.buf.indexOf(0x20);
      if (sp < 0) return;
      const lenText = this.buf.subarray(0, sp).toString('ascii');
      assert.match(lenText, /^[1-9]\d*$/, `MSG-LEN expected, got ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      if (this.buf.length < sp + 1 + len) return;
      this.frames.push(this.buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      this.buf = this.buf.subarray(sp + 1 + len);
    }
  }
}
