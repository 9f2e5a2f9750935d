// Verifies a GitHub-style request with @octokit/webhooks-methods.
// Reads {"secret", "headers", "body_base64"} as JSON from stdin; exits 0 if accepted,
// 1 if rejected, 3 if the script itself failed.
import { readFileSync } from "node:fs";

// receiver snippet begin
import { verify } from "@octokit/webhooks-methods";

async function isSignedByHookseal(secret, headers, body) {
  // body: the raw request body as a string; headers: lower-case names.
  const signature = headers["x-hub-signature-256"];
  if (!signature) return false;
  return await verify(secret, body, signature);
}
// receiver snippet end

let request;
try {
  request = JSON.parse(readFileSync(0, "utf8"));
} catch (err) {
  console.error(err);
  process.exit(3);
}
const body = Buffer.from(request.body_base64, "base64").toString("utf8");
try {
  const accepted = await isSignedByHookseal(request.secret, request.headers, body);
  console.log(accepted ? "accepted" : "rejected");
  process.exit(accepted ? 0 : 1);
} catch (err) {
  console.error(err);
  process.exit(3);
}
