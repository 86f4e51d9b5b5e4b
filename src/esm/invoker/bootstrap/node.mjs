// kinlocal's bundled Node.js bootstrap: a Lambda Runtime API client using only Node's
// standard library. Usage: node bootstrap.mjs file.function  (AWS_LAMBDA_RUNTIME_API set)
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const API = process.env.AWS_LAMBDA_RUNTIME_API || "";
const PREFIX = "/2018-06-01/runtime";
const [HOST, PORT] = API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: Number(PORT), method, path: PREFIX + p, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

class FaultError extends Error {
  constructor(errorType, message) {
    super(message);
    this.errorType = errorType;
  }
}

function errorBody(err) {
  const isError = err instanceof Error;
  const errorType = err && err.errorType ? err.errorType : isError ? err.name : typeof err === "string" ? "string" : "Error";
  const errorMessage = isError ? err.message : typeof err === "string" ? err : JSON.stringify(err);
  const trace = isError && err.stack ? err.stack.split("\n") : [];
  return JSON.stringify({ errorType, errorMessage, trace });
}

async function loadHandler(handlerString, taskRoot) {
  const slash = handlerString.lastIndexOf("/");
  const dir = slash >= 0 ? handlerString.slice(0, slash) : "";
  const rest = handlerString.slice(slash + 1);
  const match = rest.match(/^([^.]*)\.(.*)$/);
  if (!match || !match[1] || !match[2]) {
    throw new FaultError("Runtime.MalformedHandlerName", `Bad handler ${handlerString}`);
  }
  const [, moduleName, handlerPath] = match;
  const base = path.resolve(taskRoot, dir, moduleName);
  const file = ["", ".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (!file) {
    throw new FaultError("Runtime.ImportModuleError", `Error: Cannot find module '${moduleName}'`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof SyntaxError) throw new FaultError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      throw new FaultError("Runtime.ImportModuleError", `${e.name}: ${e.message}`);
    }
    throw e;
  }
  const parts = handlerPath.split(".");
  let fn = mod;
  for (const part of parts) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod.default) {
    fn = mod.default;
    for (const part of parts) fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== "function") {
    throw new FaultError("Runtime.HandlerNotFound", `${moduleName}.${handlerPath} is undefined or not exported`);
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const parse = (v) => (v ? JSON.parse(v) : undefined);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    clientContext: parse(headers["lambda-runtime-client-context"]),
    tenantId: headers["lambda-runtime-aws-tenant-id"],
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(result);
    };
    context.succeed = (r) => done(null, r);
    context.fail = (e) => done(e ?? new Error("handled"));
    context.done = done;
    try {
      const r = handler(event, context, done);
      if (r && typeof r.then === "function") r.then((v) => done(null, v), (e) => done(e ?? new Error("rejected")));
      else if (handler.length < 3) done(null, r);
    } catch (e) {
      done(e);
    }
  });
}

async function main() {
  if (!API) {
    process.stderr.write("kinlocal bootstrap: AWS_LAMBDA_RUNTIME_API is not set\n");
    process.exit(1);
  }
  const handlerString = process.argv[2] || process.env._HANDLER || "";
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(handlerString, taskRoot);
  } catch (e) {
    const body = errorBody(e);
    process.stderr.write(`[ERROR] ${JSON.parse(body).errorType}: ${e.message}\n`);
    await request("POST", "/init/error", body, {
      "Content-Type": "application/json",
      "Lambda-Runtime-Function-Error-Type": JSON.parse(body).errorType,
    });
    process.exit(1);
  }
  if (handler.length >= 3 && (process.env.AWS_EXECUTION_ENV || "").startsWith("AWS_Lambda_nodejs24")) {
    process.stderr.write("kinlocal bootstrap: warning: nodejs24.x on AWS no longer runs callback-style handlers (event, context, callback)\n");
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    if (next.status !== 200) {
      process.stderr.write(`kinlocal bootstrap: /invocation/next answered ${next.status}\n`);
      process.exit(1);
    }
    const id = next.headers["lambda-runtime-aws-request-id"];
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    else delete process.env._X_AMZN_TRACE_ID;
    let result;
    try {
      const context = makeContext(next.headers);
      const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : undefined;
      result = await run(handler, event, context);
    } catch (e) {
      await request("POST", `/invocation/${id}/error`, errorBody(e), { "Content-Type": "application/json" });
      continue;
    }
    let out;
    try {
      out = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const body = JSON.stringify({ errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] });
      await request("POST", `/invocation/${id}/error`, body, { "Content-Type": "application/json" });
      continue;
    }
    await request("POST", `/invocation/${id}/response`, out, { "Content-Type": "application/json" });
  }
}

main().catch((e) => {
  process.stderr.write(`kinlocal bootstrap: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
