// Private lookups in the browser: the page script of postguard.intel.lookup_client.
//
// The number never leaves the page. The script normalises it here, sends only the first 16 bits of
// an unkeyed SHA-256 of it (a k-anonymity bucket of ~16,000 numbers) and an RFC 9497 blinded
// element (ristretto255-SHA512, random-looking) to POST /v1/lookup/bucket, then finalizes the OPRF
// here and looks for its output among the bucket's flagged outputs. Threat model and protocol:
// docs/private-lookups.md. The group and hash code is @noble/curves, vendored in noble-oprf.js.

import { ristretto255_oprf, sha256 } from "./noble-oprf.js";

export const PREFIX_BITS = 16;
export const TRUNCATED_SIZE = 16;
const BUCKET_TAG = new TextEncoder().encode("postguard/intel/bucket/v1\0");

// Pre-2018 mobile prefixes (national, after the trunk 0) and what they became: postguard.phones.
const OLD_MOBILE_PREFIXES = {
  162: "32", 163: "33", 164: "34", 165: "35", 166: "36", 167: "37", 168: "38", 169: "39",
  120: "70", 121: "79", 122: "77", 126: "76", 128: "78",
  123: "83", 124: "84", 125: "85", 127: "81", 129: "82",
  186: "56", 188: "58", 199: "59",
};

// A Vietnamese number in any written form as E.164 ("+84912345678"), or null. The same digit rules
// as postguard.phones.normalize_phone ("+84 (0) 912…" included) and service_number (1800/1900
// hotlines: "1900 54 54 81", "1800 1091"); ranges are not checked here: a number outside every
// assigned range is never flagged, so it simply finds no match.
export function normalizePhone(raw) {
  if (typeof raw !== "string") return null;
  const text = raw.trim().replace(/[ .\-()\u00a0\t/]/g, "");
  const plus = text.startsWith("+");
  let digits = plus ? text.slice(1) : text;
  if (!/^[0-9]+$/.test(digits)) return null;
  if (plus) {
    if (!digits.startsWith("84")) return null; // another country: not in this page's scope
    digits = "0084" + digits.slice(2);
  }
  const n = digits.length;
  if (digits.startsWith("0084")) {
    digits = digits.slice(4);
    if (digits.startsWith("0")) digits = digits.slice(1); // "+84 (0) 912…": the trunk 0 written anyway
  } else if (digits.startsWith("840") && (n === 12 || n === 13)) digits = digits.slice(3);
  else if (digits.startsWith("84") && (n === 11 || n === 12)) digits = digits.slice(2);
  else if (digits.startsWith("0") && (n === 10 || n === 11)) digits = digits.slice(1);
  else if (n === 8 && /^1[89]00/.test(digits)) { /* an eight-digit 1800/1900 hotline: "1900 6035" */ }
  else if (!((n === 9 || n === 10) && !digits.startsWith("0"))) return null;
  if (digits.length === 10 && OLD_MOBILE_PREFIXES[digits.slice(0, 3)]) {
    digits = OLD_MOBILE_PREFIXES[digits.slice(0, 3)] + digits.slice(3);
  }
  if (digits.length < 8 || digits.length > 10 || digits.startsWith("0")) return null;
  return "+84" + digits;
}

export function maskPhone(e164) {
  return "*******" + e164.slice(-3);
}

// What is blinded, bucketed and indexed: "type \0 normal form" in UTF-8 (lookup_client.lookup_input).
export function lookupInput(type, value) {
  return new TextEncoder().encode(type + "\0" + value);
}

// The bucket: the first `bits` bits of SHA-256(tag || input), as hex (lookup_client.bucket_prefix).
export function bucketPrefix(input, bits = PREFIX_BITS) {
  const data = new Uint8Array(BUCKET_TAG.length + input.length);
  data.set(BUCKET_TAG);
  data.set(input, BUCKET_TAG.length);
  const h = sha256(data);
  const key = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
  return (key >>> (32 - bits)).toString(16).padStart(bits / 4, "0");
}

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// The whole round trip. Returns {display, flagged, bucketSize}; flagged false means nothing is
// reported, never "safe". Throws an Error whose `code` is "invalid_phone", "rate_limited" or "server".
export async function privateCheck(raw, { server = "", post = defaultPost } = {}) {
  const e164 = normalizePhone(raw);
  if (e164 === null) throw Object.assign(new Error("not a Vietnamese phone number"), { code: "invalid_phone" });
  const input = lookupInput("phone", e164);
  const { blind, blinded } = ristretto255_oprf.oprf.blind(input);
  const reply = await post(server + "/v1/lookup/bucket", { prefix: bucketPrefix(input), blinded: b64(blinded) });
  const output = ristretto255_oprf.oprf.finalize(input, blind, unb64(reply.evaluated));
  const mine = hex(output.slice(0, TRUNCATED_SIZE));
  const flagged = reply.outputs.some((o) => hex(unb64(o)) === mine);
  return { display: maskPhone(e164), flagged, bucketSize: reply.outputs.length };
}

async function defaultPost(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
  });
  if (response.status === 429) throw Object.assign(new Error("too many lookups"), { code: "rate_limited" });
  if (!response.ok) throw Object.assign(new Error("lookup failed"), { code: "server" });
  return response.json();
}

// The page: a form with id "private-check" (hidden until this script runs; the ordinary check
// works without it). Messages come from the form's data-msg-* attributes (the page's language).
function wire(form) {
  const out = form.querySelector("[data-private-result]");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    out.className = "verdict";
    out.textContent = form.dataset.msgWorking;
    try {
      const got = await privateCheck(form.querySelector("input").value);
      out.className = "verdict verdict-" + (got.flagged ? "reported" : "unknown");
      out.dataset.verdict = got.flagged ? "flagged" : "unknown";
      out.textContent = got.display + " — " + (got.flagged ? form.dataset.msgFlagged : form.dataset.msgUnknown);
    } catch (err) {
      out.className = "warn";
      out.dataset.verdict = "error";
      out.textContent = form.dataset["msg" + ({ invalid_phone: "Invalid", rate_limited: "Limited" }[err.code] || "Failed")];
    } finally {
      button.disabled = false;
    }
  });
}

if (typeof document !== "undefined") {
  const form = document.getElementById("private-check");
  if (form) wire(form);
}
