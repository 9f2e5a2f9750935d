// Verifies hookseal's signatures the way a Node receiver without a scheme library would, with
// node:crypto only: the snippets README.md shows. Reads {"scheme", "secret", "headers",
// "body_base64"} as JSON from stdin; exits 0 if accepted, 1 if rejected, 3 if the script failed.
import { readFileSync } from "node:fs";

// receiver snippet begin
import { createHmac, timingSafeEqual } from "node:crypto";

function same(expected, given) {
  const a = Buffer.from(expected);
  const b = Buffer.from(given ?? "");
  return a.length === b.length && timingSafeEqual(a, b);
}

function fresh(timestamp) {
  return Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
}
// receiver snippet end

// receiver snippet begin
// Standard Webhooks (prefix "webhook") and Svix (prefix "svix"). body: the raw body Buffer.
function verifyStandardWebhooks(secret, headers, body, prefix = "webhook") {
  const id = headers[`${prefix}-id`];
  const timestamp = headers[`${prefix}-timestamp`];
  const signatures = headers[`${prefix}-signature`];
  if (!id || !timestamp || !signatures || !fresh(timestamp)) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  const expected = createHmac("sha256", key).update(signed).digest("base64");
  return signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    return version === "v1" && same(expected, signature);
  });
}
// receiver snippet end

// receiver snippet begin
// Stripe: the whole secret text is the key; any v1 may match while a secret is rolled.
function verifyStripe(secret, headers, body) {
  const items = (headers["stripe-signature"] ?? "").split(",").map((item) => item.split("="));
  const timestamp = items.find(([key]) => key === "t")?.[1];
  if (!timestamp || Date.now() / 1000 - Number(timestamp) > 300) return false;
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`), body]);
  const expected = createHmac("sha256", secret).update(signed).digest("hex");
  return items.some(([key, value]) => key === "v1" && same(expected, value));
}
// receiver snippet end

// receiver snippet begin
// Slack: v0=hex(HMAC-SHA256("v0:{timestamp}:{body}")).
function verifySlack(signingSecret, headers, body) {
  const timestamp = headers["x-slack-request-timestamp"];
  if (!timestamp || !fresh(timestamp)) return false;
  const signed = Buffer.concat([Buffer.from(`v0:${timestamp}:`), body]);
  const expected = "v0=" + createHmac("sha256", signingSecret).update(signed).digest("hex");
  return same(expected, headers["x-slack-signature"]);
}
// receiver snippet end

// receiver snippet begin
// Shopify: base64 HMAC-SHA256 of the body. Drop repeats by x-shopify-event-id.
function verifyShopify(secret, headers, body) {
  const expected = createHmac("sha256", secret).update(body).digest("base64");
  return same(expected, headers["x-shopify-hmac-sha256"]);
}
// receiver snippet end

// receiver snippet begin
// cal.com: hex HMAC-SHA256 of the body, no prefix.
function verifyCalcom(secret, headers, body) {
  const expected = createHmac("sha256", secret).update(body).digest("hex");
  return same(expected, headers["x-cal-signature-256"]);
}
// receiver snippet end

const verifiers = {
  "standard-webhooks": (s, h, b) => verifyStandardWebhooks(s, h, b),
  svix: (s, h, b) => verifyStandardWebhooks(s, h, b, "svix"),
  stripe: verifyStripe,
  slack: verifySlack,
  shopify: verifyShopify,
  calcom: verifyCalcom,
};

try {
  const request = JSON.parse(readFileSync(0, "utf8"));
  const verifier = verifiers[request.scheme];
  if (!verifier) throw new Error(`no Node verifier for ${request.scheme}`);
  const body = Buffer.from(request.body_base64, "base64");
  const accepted = verifier(request.secret, request.headers, body);
  console.log(accepted ? "accepted" : "rejected");
  process.exit(accepted ? 0 : 1);
} catch (err) {
  console.error(err);
  process.exit(3);
}
